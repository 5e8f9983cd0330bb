/**
 * Sent Items write-back through the real msal-node and Graph SDK against the HTTPS Graph stand-in: mail
 * users sent through Lifeboat is created in their Exchange Sent Items as sent items (not drafts: the
 * stand-in makes a draft of anything without PR_MESSAGE_FLAGS cleared of the unsent bit, as Exchange
 * does), with its Message-ID and attachments; once per message however often it runs; refused without
 * Mail.ReadWrite (the admin is told to grant it); progress for the admin, a count for each user; a
 * tenant without a Graph connection is told it cannot.
 */
import request from 'supertest';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { connectAndSync, useGraphStandIns } from '../harness/graph-stand-ins';
import { StandInWorld } from '../stand-ins/entra';

const SECRET = 'sent-items-app-secret-1234';
const CLIENT_ID = '31111111-2222-4333-8444-555555555555';
const world = new StandInWorld();
const contoso = world.addTenant('cccccccc-0000-4000-8000-000000000001');
contoso.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
for (const id of ['ana', 'ben'])
  contoso.putUser({ id, displayName: id.toUpperCase(), mail: `${id}@contoso.example`, userPrincipalName: `${id}@contoso.example` });
const app = contoso.registerApp({
  clientId: CLIENT_ID,
  clientSecret: SECRET,
  grantedPermissions: ['User.Read.All', 'Group.Read.All', 'Domain.Read.All', 'Mail.Read'],
});

const standIns = useGraphStandIns(world);

const ctx = useLifeboat({ graph: standIns.graph });

async function userToken(admin: request.Agent, id: string, email: string): Promise<string> {
  await admin
    .put(`/api/users/${id}/cloud-password`)
    .send({ password: `${id} cloud password long` })
    .expect(204);
  return (
    await request(ctx.app)
      .post('/api/user-auth/login')
      .send({ email, password: `${id} cloud password long` })
      .expect(200)
  ).body.token;
}

async function finished(admin: request.Agent) {
  let body: Record<string, unknown> = {};
  await eventually(async () => {
    body = (await admin.get('/api/sent-items/write-back').expect(200)).body;
    expect(body.state).not.toBe('running');
  }, 30_000);
  return body;
}

describe('Sent Items write-back', () => {
  let admin: request.Agent;
  const tokens: Record<string, string> = {};
  const sent = (who: string) => contoso.mailbox(who).messages.filter((m) => m.parentFolderId === 'sentitems');

  beforeAll(async () => {
    admin = await ctx.signIn('alpha', 'fullAdministrator', 'owner@alpha.test');
    await connectAndSync(admin, { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET });
    tokens.ana = await userToken(admin, 'ana', 'ana@contoso.example');
    tokens.ben = await userToken(admin, 'ben', 'ben@contoso.example');
    const send = (who: string, body: object) => request(ctx.app).post('/api/me/messages').set('Authorization', `Bearer ${tokens[who]}`).send(body).expect(201);
    await send('ana', { to: ['partner@fabrikam.example'], subject: 'Quarterly figures', html: '<p>The figures</p>' });
    await send('ana', {
      to: ['partner@fabrikam.example'],
      cc: ['ben@contoso.example'],
      subject: 'With the file',
      html: '<p>Attached</p>',
      attachments: [{ filename: 'notes.txt', contentType: 'text/plain', contentBase64: Buffer.from('hello notes').toString('base64') }],
    });
    await send('ben', { to: ['ana@contoso.example'], subject: 'From Ben', html: '<p>Hi</p>' });
  });

  it('has never run: the admin and users see that', async () => {
    expect((await admin.get('/api/sent-items/write-back').expect(200)).body).toEqual({ state: 'never' });
    const mine = (await request(ctx.app).get('/api/me/sent-items').set('Authorization', `Bearer ${tokens.ana}`).expect(200)).body;
    expect(mine).toEqual({ copied: 0, lastCopiedAt: null, state: 'never', unavailableReason: null });
    await request(ctx.app).get('/api/me/sent-items').expect(401);
    const reader = await ctx.signIn('alpha', 'readOnly');
    await reader.post('/api/sent-items/write-back').expect(403);
  });

  it('stops at the first refusal without Mail.ReadWrite and tells the admin what to grant; nothing is claimed', async () => {
    await admin.post('/api/sent-items/write-back').expect(202);
    const run = await finished(admin);
    expect(run.state).toBe('failed');
    expect(run.reason).toMatch(/Mail\.ReadWrite/);
    expect(run.copied).toBe(0);
    expect(sent('ana')).toHaveLength(0);
  });

  it('creates each sent message in the user’s Sent Items as a sent item, once, and counts it for the user', async () => {
    app.grantedPermissions.push('Mail.ReadWrite');
    await admin.post('/api/sent-items/write-back').expect(202);
    const run = await finished(admin);
    expect(run).toMatchObject({ state: 'done', total: 3, copied: 3, failed: 0, skipped: 0 });
    const ana = sent('ana');
    expect(ana.map((m) => m.subject).sort()).toEqual(['Quarterly figures', 'With the file']);
    for (const m of ana) {
      expect(m.isDraft).toBe(false);
      expect(m.internetMessageId).toMatch(/^<.+@.+>$/);
    }
    const withFile = ana.find((m) => m.subject === 'With the file')!.created!;
    expect(
      (withFile.attachments as Array<{ name: string; contentBytes: string }>).map((a) => [a.name, Buffer.from(a.contentBytes, 'base64').toString()]),
    ).toEqual([['notes.txt', 'hello notes']]);
    expect((withFile.ccRecipients as Array<{ emailAddress: { address: string } }>)[0]!.emailAddress.address).toBe('ben@contoso.example');
    expect(sent('ben')).toHaveLength(1);
    const mine = (await request(ctx.app).get('/api/me/sent-items').set('Authorization', `Bearer ${tokens.ana}`).expect(200)).body;
    expect(mine).toMatchObject({ copied: 2, state: 'done', unavailableReason: null });

    // Again: nothing is copied twice.
    await admin.post('/api/sent-items/write-back').expect(202);
    expect(await finished(admin)).toMatchObject({ state: 'done', total: 3, copied: 0, skipped: 3 });
    expect(sent('ana')).toHaveLength(2);
    const audit = (await admin.get('/api/audit?limit=50').expect(200)).body.items.map((e: { action: string }) => e.action);
    expect(audit.filter((a: string) => a === 'sentItems.writeBack.started')).toHaveLength(3);
  });

  it('tells a tenant without a Graph connection that it cannot, and its users before anyone tries', async () => {
    const other = await ctx.signIn('beta', 'basicAdministrator', 'admin@beta.test');
    const token = await userToken(other, 'beta-u1', 'one@beta.test');
    const mine = (await request(ctx.app).get('/api/me/sent-items').set('Authorization', `Bearer ${token}`).expect(200)).body;
    expect(mine).toMatchObject({ copied: 0, state: 'unavailable' });
    expect(mine.unavailableReason).toMatch(/no Microsoft Graph connection/);
    await other.post('/api/sent-items/write-back').expect(202);
    const run = await finished(other);
    expect(run.state).toBe('unavailable');
    expect(run.reason).toMatch(/no Microsoft Graph connection/);
  });
});
