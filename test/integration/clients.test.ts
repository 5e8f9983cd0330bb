import request from 'supertest';
import { readinessOf } from '../../server/clients/service';
import { tenantDirectory, useLifeboat } from '../harness/context';

const ctx = useLifeboat({
  directories: [
    tenantDirectory('alpha', { users: ['a', 'b', 'c', 'd', 'e'].map((x) => ({ id: `u-${x}`, displayName: x, mail: `${x}@alpha.test` })), groups: [] }),
    tenantDirectory('beta'),
  ],
});

async function userToken(userId: string, email: string) {
  const admin = await ctx.signIn('alpha', 'basicAdministrator');
  await admin.put(`/api/users/${userId}/cloud-password`).send({ password: 'a user password' }).expect(204);
  return (await request(ctx.app).post('/api/user-auth/login').send({ email, password: 'a user password' }).expect(200)).body.token as string;
}

describe('the client census', () => {
  it('classifies readiness honestly', () => {
    expect(readinessOf('mac', 'always')).toBe('ready');
    expect(readinessOf('classicWindows', 'confirmed')).toBe('ready');
    expect(readinessOf('classicWindows', 'unknown')).toBe('unknown');
    expect(readinessOf('classicWindows', 'notConfirmed')).toBe('notCapable');
    for (const kind of ['newOutlookWindows', 'web', 'mobile'] as const) expect(readinessOf(kind, 'notApplicable')).toBe('notCapable');
  });

  it('stores each user’s latest report and counts them for admins', async () => {
    const reports = [
      ['u-a', { kind: 'classicWindows', hostName: 'Outlook', platform: 'PC', cachedMode: 'unknown' }],
      ['u-b', { kind: 'mac', hostName: 'Outlook', platform: 'Mac', cachedMode: 'always' }],
      ['u-c', { kind: 'web', hostName: 'OutlookWebApp', platform: 'OfficeOnline', cachedMode: 'notApplicable' }],
      ['u-d', { kind: 'newOutlookWindows', hostName: 'newOutlookWindows', platform: 'PC', cachedMode: 'notApplicable' }],
    ] as const;
    for (const [userId, body] of reports) {
      const token = await userToken(userId, `${userId.slice(2)}@alpha.test`);
      await request(ctx.app).post('/api/me/client').set('Authorization', `Bearer ${token}`).send(body).expect(204);
    }
    // Ann confirms Cached Exchange Mode later, with evidence: the report replaces the old one.
    const a = await userToken('u-a', 'a@alpha.test');
    await request(ctx.app)
      .post('/api/me/client')
      .set('Authorization', `Bearer ${a}`)
      .send({
        kind: 'classicWindows',
        hostName: 'Outlook',
        platform: 'PC',
        cachedMode: 'confirmed',
        evidence: [{ type: 'saveAsync9021', at: new Date().toISOString(), detail: 'draft saved while offline' }],
      })
      .expect(204);
    const bad = await request(ctx.app).post('/api/me/client').set('Authorization', `Bearer ${a}`).send({ kind: 'toaster', cachedMode: 'maybe' }).expect(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['cachedMode', 'kind']);
    await request(ctx.app).post('/api/me/client').send(reports[0][1]).expect(401);

    const admin = await ctx.signIn('alpha', 'readOnly');
    const summary = (await admin.get('/api/clients/summary').expect(200)).body;
    expect(summary.total).toBe(4);
    expect(summary.readiness).toEqual({ ready: 2, unknown: 0, notCapable: 2 });
    expect(summary.byKind.classicWindows).toEqual({ total: 1, byCachedMode: { confirmed: 1 } });
    expect(summary.byKind.mac.total).toBe(1);
    const beta = await ctx.signIn('beta', 'readOnly');
    expect((await beta.get('/api/clients/summary').expect(200)).body.total).toBe(0);
  });
});
