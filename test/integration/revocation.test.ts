/**
 * Revoking Outlook users' tokens: a changed or reset cloud password, the user removed from the directory
 * or an administrator's "sign out everywhere" refuses their tokens on REST and disconnects their sockets.
 */
import request from 'supertest';
import { tenantDirectory, useLifeboat } from '../harness/context';
import { startLiveServer, statusClient, type LiveServer } from '../harness/live-server';

const ctx = useLifeboat();
let live: LiveServer;
beforeAll(async () => {
  live = await startLiveServer(ctx);
});
afterAll(() => live.close());

const me = (token: string) => request(ctx.app).get('/api/me/status').set('Authorization', `Bearer ${token}`);
async function signInUser(email: string, password: string): Promise<string> {
  return (await request(ctx.app).post('/api/user-auth/login').send({ email, password }).expect(200)).body.token;
}
async function disconnected(client: ReturnType<typeof statusClient>): Promise<void> {
  if (!client.socket.connected) return;
  await new Promise<void>((resolve) => client.socket.once('disconnect', () => resolve()));
}

describe('user token revocation', () => {
  it('an admin changing the cloud password revokes the old tokens and closes their sockets', async () => {
    const admin = await ctx.signIn('alpha', 'basicAdministrator');
    await admin.put('/api/users/alpha-u1/cloud-password').send({ password: 'first user password' }).expect(204);
    const token = await signInUser('one@alpha.test', 'first user password');
    await me(token).expect(200);
    const client = statusClient(live.url, token);
    await client.connected();
    const gone = disconnected(client);

    await admin.put('/api/users/alpha-u1/cloud-password').send({ password: 'second user password' }).expect(204);
    await gone;
    await me(token).expect(401);
    const fresh = await signInUser('one@alpha.test', 'second user password');
    await me(fresh).expect(200);
    const again = statusClient(live.url, token);
    await expect(again.connected()).rejects.toThrow(/unauthorized/);
    again.socket.close();
  });

  it('"sign out everywhere" revokes every token of the user, audited; other users keep theirs', async () => {
    const admin = await ctx.signIn('alpha', 'basicAdministrator');
    await admin.put('/api/users/alpha-u2/cloud-password').send({ password: 'user two password' }).expect(204);
    const first = await signInUser('two@alpha.test', 'user two password');
    const second = await signInUser('two@alpha.test', 'user two password');
    const other = await signInUser('one@alpha.test', 'second user password');
    const client = statusClient(live.url, second);
    await client.connected();
    const gone = disconnected(client);
    await admin.post('/api/users/alpha-u2/sign-out-everywhere').expect(204);
    await gone;
    await me(first).expect(401);
    await me(second).expect(401);
    await me(other).expect(200);
    await me(await signInUser('two@alpha.test', 'user two password')).expect(200);

    await admin.post('/api/users/nobody/sign-out-everywhere').expect(404);
    const reader = await ctx.signIn('alpha', 'readOnly');
    await reader.post('/api/users/alpha-u2/sign-out-everywhere').expect(403);
    const full = await ctx.signIn('alpha', 'fullAdministrator');
    const audit = await full.get('/api/audit?category=security&limit=500').expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toContain('user.signedOutEverywhere');
  });

  it('a user removed from the directory loses their tokens and sockets', async () => {
    const admin = await ctx.signIn('beta', 'basicAdministrator');
    await admin.put('/api/users/beta-u2/cloud-password').send({ password: 'beta two password' }).expect(204);
    const token = await signInUser('two@beta.test', 'beta two password');
    await me(token).expect(200);
    const client = statusClient(live.url, token);
    await client.connected();
    const gone = disconnected(client);
    const beta = tenantDirectory('beta');
    await ctx.services.directory.importDirectory({
      ...beta,
      users: beta.users.filter((u) => u.id !== 'beta-u2'),
      groups: beta.groups.map((g) => ({ ...g, members: g.members!.filter((m) => m !== 'beta-u2') })),
    });
    await gone;
    await me(token).expect(401);
  });
});
