import { useLifeboat } from '../harness/context';

const ctx = useLifeboat();

describe('tenant isolation', () => {
  it("never shows one tenant's records to another tenant's admin", async () => {
    const alpha = await ctx.signIn('alpha', 'fullAdministrator', 'root@alpha.test');
    const beta = await ctx.signIn('beta', 'fullAdministrator', 'root@beta.test');

    const betaAdmins = (await beta.get('/api/admins').expect(200)).body as { id: string; email: string }[];
    const betaAdminId = betaAdmins[0].id;
    await beta.get(`/api/admins/${betaAdminId}`).expect(200);
    await alpha.get(`/api/admins/${betaAdminId}`).expect(404);
    expect(((await alpha.get('/api/admins').expect(200)).body as { email: string }[]).map((a) => a.email)).toEqual(['root@alpha.test']);

    await beta.get('/api/directory/groups/beta-g1').expect(200);
    await alpha.get('/api/directory/groups/beta-g1').expect(404);
    await alpha.get('/api/directory/users/beta-u1').expect(404);
    expect((await alpha.get('/api/directory/groups?search=beta').expect(200)).body).toEqual([]);
    expect((await alpha.get('/api/directory/users').expect(200)).body.map((u: { id: string }) => u.id)).toEqual(['alpha-u1', 'alpha-u2']);

    const alphaAudit = (await alpha.get('/api/audit?limit=500').expect(200)).body.items as { actor: { email: string } }[];
    expect(alphaAudit.length).toBeGreaterThan(0);
    expect(alphaAudit.every((e) => !String(e.actor.email).endsWith('@beta.test'))).toBe(true);
    const csv = (await alpha.get('/api/audit/export.csv').expect(200)).text;
    expect(csv).not.toContain('beta.test');
  });
});
