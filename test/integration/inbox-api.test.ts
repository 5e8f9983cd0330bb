/**
 * The web inbox's API on the real database with mail received over SMTP: search over the user's own
 * continuity mailbox (both folders, every word, body text), paging, recipient suggestions from the
 * directory, the mailbox index rebuilt for mail stored before it existed, and the HTML / problem+json
 * split for unknown paths.
 */
import request from 'supertest';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { createLogger } from '../../server/log';
import { createReceiver } from '../../server/mail/receiver';
import { mailboxIndexModels } from '../../server/mail/mailbox-index';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { sendOne, simpleMessage } from '../harness/smtp-peers';

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann Lee', mail: 'ann@acme.test' },
    { id: 'u-bob', displayName: 'Bob Annis', mail: 'bob@acme.test' },
    { id: 'u-nomail', displayName: 'Anna Nomail', mail: null },
  ],
  groups: [{ id: 'g-annex', displayName: 'Annex team', mail: 'annex@acme.test', mailEnabled: true, members: ['u-ann'] }],
};

const ctx = useLifeboat({ directories: [acme] });
let receiver: ReturnType<typeof createReceiver>;
let port: number;
const tokens: Record<string, string> = {};

async function userToken(id: string, email: string): Promise<string> {
  const admin = await ctx.signIn('acme', 'basicAdministrator', `admin-${id}@acme.test`);
  await admin
    .put(`/api/users/${id}/cloud-password`)
    .send({ password: `${id} password long` })
    .expect(204);
  const res = await request(ctx.app)
    .post('/api/user-auth/login')
    .send({ email, password: `${id} password long` })
    .expect(200);
  return res.body.token as string;
}
const as = (who: string, url: string) => request(ctx.app).get(url).set('Authorization', `Bearer ${tokens[who]}`);

beforeAll(async () => {
  receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent'), maxMessageBytes: 1024 * 1024 });
  port = await receiver.listen(0, '127.0.0.1');
  tokens.ann = await userToken('u-ann', 'ann@acme.test');
  tokens.bob = await userToken('u-bob', 'bob@acme.test');
  const mail = (to: string, subject: string, body: string, from = 'carol@fabrikam.example') =>
    sendOne(port, { from, to: [to], message: simpleMessage({ from, to, subject, body }) });
  await mail('ann@acme.test', 'Budget review', 'The pineapple budget is approved.');
  await mail('ann@acme.test', 'Lunch', 'Noon at the usual place.', 'dave@fabrikam.example');
  await mail('bob@acme.test', 'Pineapple for Bob', 'Only Bob has this pineapple.');
  for (let i = 0; i < 55; i++) await mail('ann@acme.test', `Report ${i}`, `Weekly report number ${i}.`);
  await eventually(async () => expect((await as('ann', '/api/me/mailbox?folder=inbox').expect(200)).body.items).toHaveLength(50), 30_000);
});
afterAll(async () => receiver.close());

describe('search', () => {
  it('matches body text, subject and sender in the user’s own mailbox only, every word', async () => {
    const body = (await as('ann', '/api/me/search?q=pineapple').expect(200)).body;
    expect(body.items.map((m: { subject: string }) => m.subject)).toEqual(['Budget review']);
    expect(body.items[0].id).toMatch(/^inbox:/);
    expect((await as('ann', '/api/me/search?q=dave').expect(200)).body.items.map((m: { subject: string }) => m.subject)).toEqual(['Lunch']);
    expect((await as('ann', '/api/me/search?q=PINEAPPLE%20approved').expect(200)).body.items).toHaveLength(1);
    expect((await as('ann', '/api/me/search?q=pineapple%20lunch').expect(200)).body.items).toHaveLength(0);
    expect((await as('bob', '/api/me/search?q=pineapple').expect(200)).body.items.map((m: { subject: string }) => m.subject)).toEqual(['Pineapple for Bob']);
  });

  it('pages newest first with a cursor, without repeats', async () => {
    const first = (await as('ann', '/api/me/search?q=weekly%20report').expect(200)).body;
    expect(first.items).toHaveLength(50);
    expect(first.items[0].subject).toBe('Report 54');
    const second = (await as('ann', `/api/me/search?q=weekly%20report&cursor=${first.nextCursor}`).expect(200)).body;
    expect(second.items).toHaveLength(5);
    expect(second.nextCursor).toBeNull();
    const all = [...first.items, ...second.items].map((m: { id: string }) => m.id);
    expect(new Set(all).size).toBe(55);
  });

  it('refuses bad input with problem+json naming the field, and strangers', async () => {
    const short = await as('ann', '/api/me/search?q=a').expect(422);
    expect(short.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(short.body.errors[0].path).toBe('q');
    expect((await as('ann', '/api/me/search?q=report&cursor=nonsense').expect(422)).body.errors[0].path).toBe('cursor');
    await request(ctx.app).get('/api/me/search?q=report').expect(401);
  });
});

describe('the mailbox index', () => {
  it('is rebuilt from the mailbox entries when missing (mail stored before it existed)', async () => {
    const before = (await as('ann', '/api/me/mailbox?folder=inbox').expect(200)).body;
    // As a database from before the index: no heads, no chunks, the tenant not marked indexed.
    const models = mailboxIndexModels(ctx.conn);
    for (const shard of models.all()) {
      await shard.heads.deleteMany({ tenantId: 'acme' });
      await shard.chunks.deleteMany({ tenantId: 'acme' });
    }
    await models.state.deleteMany({ _id: 'acme' });
    const after = (await as('ann', '/api/me/mailbox?folder=inbox').expect(200)).body;
    expect(after.items.map((m: { id: string }) => m.id)).toEqual(before.items.map((m: { id: string }) => m.id));
    const next = (await as('ann', `/api/me/mailbox?folder=inbox&cursor=${after.nextCursor}`).expect(200)).body;
    expect(next.items).toHaveLength(7);
    // Rebuilt rows know the preview (the opening of the body), so search still finds it.
    expect((await as('ann', '/api/me/search?q=pineapple').expect(200)).body.items).toHaveLength(1);
  });
});

describe('recipient suggestions', () => {
  it('suggests users and groups with an address, from the user’s tenant, names that start with the text first', async () => {
    const body = (await as('ann', '/api/me/people?q=ann').expect(200)).body;
    expect(body.items).toEqual([
      { name: 'Ann Lee', address: 'ann@acme.test', kind: 'user' },
      { name: 'Annex team', address: 'annex@acme.test', kind: 'group' },
      { name: 'Bob Annis', address: 'bob@acme.test', kind: 'user' },
    ]);
    expect((await as('ann', '/api/me/people?q=').expect(422)).body.errors[0].path).toBe('q');
    await request(ctx.app).get('/api/me/people?q=ann').expect(401);
  });
});

describe('pages for people, problem+json for programs', () => {
  it('answers an unknown page a browser asks for with HTML, the API with problem+json', async () => {
    const page = await request(ctx.app).get('/no/such/page').set('Accept', 'text/html').expect(404);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toMatch(/continuity inbox/);
    const api = await request(ctx.app).get('/api/no/such').set('Accept', 'text/html').expect(404);
    expect(api.headers['content-type']).toMatch(/application\/problem\+json/);
    const plain = await request(ctx.app).get('/no/such/page').expect(404);
    expect(plain.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});

describe('which users may use the end-user tools', () => {
  it('is everyone by default; a tenant can limit it to groups, and a user outside them gets a clear 403', async () => {
    const admin = await ctx.signIn('acme', 'basicAdministrator', 'access-admin@acme.test');
    expect((await admin.get('/api/end-user-access').expect(200)).body).toEqual({ groupIds: null });
    expect(
      (
        await admin
          .put('/api/end-user-access')
          .send({ groupIds: ['g-nope'] })
          .expect(422)
      ).body.errors[0].path,
    ).toBe('groupIds');
    await admin
      .put('/api/end-user-access')
      .send({ groupIds: ['g-annex'] })
      .expect(200);
    await as('ann', '/api/me/mailbox?folder=inbox').expect(200);
    const refused = await as('bob', '/api/me/mailbox?folder=inbox').expect(403);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body.detail).toMatch(/ask your IT administrator/);
    await as('bob', '/api/me/search?q=pineapple').expect(403);
    await request(ctx.app)
      .post('/api/me/messages')
      .set('Authorization', `Bearer ${tokens.bob}`)
      .send({ to: ['ann@acme.test'], subject: 'x' })
      .expect(403);
    await as('bob', '/api/me/status').expect(200); // the status is for everyone
    await admin.put('/api/end-user-access').send({ groupIds: null }).expect(200);
    await as('bob', '/api/me/mailbox?folder=inbox').expect(200);
    const audit = (await admin.get('/api/audit?limit=50').expect(200)).body.items.map((e: { action: string }) => e.action);
    expect(audit.filter((a: string) => a === 'endUserAccess.changed')).toHaveLength(2);
  });
});
