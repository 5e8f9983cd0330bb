/**
 * The tenant boundary as an attacker sees it: two tenants on one server, a victim (alpha) and an
 * attacker (beta) who is a full administrator of their own tenant. The attacker must not take the
 * victim's mail through a monitor address, nor squat or probe the victim's admin addresses.
 */
import request from 'supertest';
import { createLogger } from '../../server/log';
import { createReceiver } from '../../server/mail/receiver';
import { monitorModels } from '../../server/monitor/model';
import { syncIndexes } from '../../server/services';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { sendOne, simpleMessage } from '../harness/smtp-peers';

// The operator lets admins of any tenant have addresses at an outside IT provider (LIFEBOAT_ADMIN_EMAIL_DOMAINS).
const ctx = useLifeboat({ services: { adminEmailDomains: ['partners.example'] } });

const monitor = (address: string, probeMailbox: string, defaultGroupId: string) => ({
  name: 'Watch',
  probeMailbox,
  address,
  alertRecipients: { sms: [], email: ['oncall@example.org'] },
  defaultGroupId,
  timeZone: 'UTC',
});

describe('monitor addresses', () => {
  let victim: request.Agent;
  let attacker: request.Agent;
  let receiver: ReturnType<typeof createReceiver>;
  let port: number;
  beforeAll(async () => {
    victim = await ctx.signIn('alpha', 'fullAdministrator', 'root@alpha.test');
    attacker = await ctx.signIn('beta', 'fullAdministrator', 'root@beta.test');
    receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent') });
    port = await receiver.listen(0, '127.0.0.1');
  });
  afterAll(() => receiver.close());

  it("are refused in another tenant's accepted domains (422 naming `address`), and outside the server's monitoring domains", async () => {
    const taken = await attacker
      .post('/api/monitors')
      .send(monitor('one@alpha.test', 'one@beta.test', 'beta-g1'))
      .expect(422);
    expect(taken.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(taken.body.errors).toEqual([{ path: 'address', message: expect.stringContaining('alpha.test is an accepted domain of another organisation') }]);
    const elsewhere = await attacker
      .post('/api/monitors')
      .send(monitor('watch@example.org', 'one@beta.test', 'beta-g1'))
      .expect(422);
    expect(elsewhere.body.errors.map((e: { path: string }) => e.path)).toEqual(['address']);
    // Changing a monitor's address is held to the same rule.
    const own = await attacker
      .post('/api/monitors')
      .send(monitor('beta-watch@monitor.lifeboat.test', 'one@beta.test', 'beta-g1'))
      .expect(201);
    const moved = await attacker
      .put(`/api/monitors/${own.body.id}`)
      .send(monitor('two@alpha.test', 'one@beta.test', 'beta-g1'))
      .expect(422);
    expect(moved.body.errors.map((e: { path: string }) => e.path)).toEqual(['address']);
    // In the server's monitoring domain, or in the tenant's own domain: accepted.
    await victim
      .post('/api/monitors')
      .send(monitor('watch@alpha.test', 'one@alpha.test', 'alpha-g1'))
      .expect(201);
  });

  it("never black-hole the victim's mail: its users' mail is delivered even when another tenant's monitor holds the address", async () => {
    // What the API let any tenant do before: claim a monitor address in the victim's domain.
    const models = monitorModels(ctx.conn);
    await models.addresses.create({ _id: 'one@alpha.test', tenantId: 'beta', monitorId: 'monbetasquat1' });
    await models.addresses.create({ _id: 'spare@alpha.test', tenantId: 'beta', monitorId: 'monbetasquat2' });
    ctx.services.monitor.forgetAddresses();

    const before = await ctx.services.mail.models.messages.countDocuments({ tenantId: 'alpha' });
    const sent = await sendOne(port, {
      from: 'partner@example.org',
      to: ['one@alpha.test'],
      message: simpleMessage({ from: 'partner@example.org', to: 'one@alpha.test', subject: 'For Ada' }),
    });
    expect(sent.rcpts[0]).toMatch(/^250/);
    expect(sent.data).toMatch(/^250/);
    // Stored in the routing journal before the 250; routing copies it to the tenant's messages.
    await eventually(async () => expect(await ctx.services.mail.unrouted()).toBe(0));
    const stored = await ctx.services.mail.models.messages.find({ tenantId: 'alpha' }).lean();
    expect(stored.length).toBe(before + 1);
    expect(JSON.stringify(stored)).toContain('one@alpha.test');
    expect(await ctx.services.mail.models.messages.countDocuments({ tenantId: 'beta' })).toBe(0);

    // The victim can take an address of its own domain back for its own monitor.
    await victim
      .post('/api/monitors')
      .send(monitor('spare@alpha.test', 'one@alpha.test', 'alpha-g1'))
      .expect(201);
    expect((await models.addresses.findById('spare@alpha.test').lean())?.tenantId).toBe('alpha');
  });
});

describe('admin e-mail addresses', () => {
  const admin = (email: string, password = 'a long enough password') => ({ email, password, role: 'fullAdministrator' });

  it('lose the global unique index of a database from before (dropped when the indexes are built at start)', async () => {
    const collection = ctx.conn.collection('admins');
    await collection.dropIndex('email_1');
    await collection.createIndex({ email: 1 }, { unique: true, name: 'email_1' });
    await syncIndexes(ctx.conn);
    const indexes = await collection.indexes();
    expect(indexes.find((i) => i.name === 'email_1')?.unique).toBeFalsy();
    expect(indexes.find((i) => i.name === 'tenantId_1_email_1')?.unique).toBe(true);
  });

  it("are kept to the tenant's own domains: the victim's addresses can be neither squatted nor probed", async () => {
    const attacker = await ctx.signIn('beta', 'fullAdministrator', 'chief@beta.test');
    await ctx.createAdmin('alpha', 'fullAdministrator', 'boss@alpha.test', 'the boss password 1');
    // The victim's existing admin and a free address of the victim's domain get the same answer.
    const existing = await attacker.post('/api/admins').send(admin('boss@alpha.test')).expect(422);
    const free = await attacker.post('/api/admins').send(admin('nobody@alpha.test')).expect(422);
    expect(existing.body.errors).toEqual([{ path: 'email', message: expect.stringContaining('beta.test') }]);
    expect(free.body).toEqual(existing.body);
    const outside = await attacker.post('/api/admins').send(admin('someone@example.org')).expect(422);
    expect(outside.body.errors.map((e: { path: string }) => e.path)).toEqual(['email']);
    await attacker.post('/api/admins').send(admin('deputy@beta.test')).expect(201);
    await attacker.post('/api/admins').send(admin('deputy@beta.test')).expect(409);
  });

  it('are unique per tenant: an address the operator allows may administer two tenants, each with its own password', async () => {
    const victim = await ctx.signIn('alpha', 'fullAdministrator', 'head@alpha.test');
    const attacker = await ctx.signIn('beta', 'fullAdministrator', 'head@beta.test');
    await victim.post('/api/admins').send(admin('it@partners.example', 'alpha side password')).expect(201);
    // Before, the attacker learned from a 409 that the victim has this admin; now it is their own.
    await attacker.post('/api/admins').send(admin('it@partners.example', 'beta side password')).expect(201);
    expect(((await attacker.get('/api/admins').expect(200)).body as { email: string }[]).map((a) => a.email)).toContain('it@partners.example');

    const signIn = async (password: string) =>
      (await request(ctx.app).post('/api/auth/login').send({ email: 'it@partners.example', password }).expect(200)).body;
    expect((await signIn('alpha side password')).tenantId).toBe('alpha');
    expect((await signIn('beta side password')).tenantId).toBe('beta');
    await request(ctx.app).post('/api/auth/login').send({ email: 'it@partners.example', password: 'neither password' }).expect(401);
  });
});
