/**
 * The Sent Items write-back starts by itself when a continuity event ends: the real scheduler fires the
 * end, the `event:ended` reaction starts the copy through the real msal-node and Graph SDK against the
 * HTTPS Graph stand-in, and the messages appear in Exchange Sent Items once, even when the end is
 * dispatched a second time (a crashed firer's transition is dispatched again, on any node). A tenant
 * without a Graph connection gets a run that says it cannot.
 */
import request from 'supertest';
import type { AdminIdentity } from '../../server/auth/identity';
import { transitionModel, type TransitionRecord } from '../../server/events/model';
import { eventModel, type EventRecord } from '../../server/events/model';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { connectAndSync, useGraphStandIns } from '../harness/graph-stand-ins';
import { StandInWorld } from '../stand-ins/entra';

const SECRET = 'sent-items-event-app-secret-1234';
const CLIENT_ID = '41111111-2222-4333-8444-555555555555';
const world = new StandInWorld();
const contoso = world.addTenant('cccccccc-0000-4000-8000-000000000002');
contoso.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
for (const id of ['ana', 'ben'])
  contoso.putUser({ id, displayName: id.toUpperCase(), mail: `${id}@contoso.example`, userPrincipalName: `${id}@contoso.example` });
contoso.putGroup({ id: 'staff', displayName: 'Staff', members: ['ana', 'ben'] });
contoso.registerApp({
  clientId: CLIENT_ID,
  clientSecret: SECRET,
  grantedPermissions: ['User.Read.All', 'Group.Read.All', 'Domain.Read.All', 'Mail.ReadWrite'],
});

const standIns = useGraphStandIns(world);

const ctx = useLifeboat({ graph: standIns.graph });
const context = { ip: null, requestId: null };
const planner = (tenantId: string): AdminIdentity => ({
  tenantId,
  adminId: 'a1',
  email: `planner@${tenantId}.test`,
  displayName: 'Planner',
  role: 'fullAdministrator',
});

async function userToken(admin: request.Agent, id: string, email: string): Promise<string> {
  const password = `${id} cloud password long`;
  await admin.put(`/api/users/${id}/cloud-password`).send({ password }).expect(204);
  return (await request(ctx.app).post('/api/user-auth/login').send({ email, password }).expect(200)).body.token;
}

/** An event that started a minute ago, ended now by an admin; resolves once the scheduler dispatched the end. */
async function eventEnded(tenantId: string, groupId: string): Promise<{ transition: TransitionRecord; event: EventRecord }> {
  const created = await ctx.services.events.create(
    planner(tenantId),
    { description: 'Exchange Online outage', affectedGroupId: groupId, timeZone: 'UTC', start: new Date(Date.now() - 60_000).toISOString(), end: null },
    context,
  );
  const transitions = transitionModel(ctx.conn);
  await eventually(async () => expect((await transitions.findOne({ key: `${created.id}:start` }).lean())?.dispatchedAt).toBeInstanceOf(Date));
  await ctx.services.events.endNow(planner(tenantId), created.id, context);
  let transition: TransitionRecord | null = null;
  await eventually(async () => {
    transition = await transitions.findOne({ key: `${created.id}:end` }).lean<TransitionRecord>();
    expect(transition?.dispatchedAt).toBeInstanceOf(Date);
  }, 30_000);
  const event = (await eventModel(ctx.conn).findById(created.id).lean<EventRecord>())!;
  return { transition: transition!, event };
}

describe('Sent Items write-back after an event ends', () => {
  const sent = (who: string) => contoso.mailbox(who).messages.filter((m) => m.parentFolderId === 'sentitems');
  let admin: request.Agent;

  beforeAll(async () => {
    admin = await ctx.signIn('alpha', 'fullAdministrator', 'owner@alpha.test');
    await connectAndSync(admin, { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET });
    const ana = await userToken(admin, 'ana', 'ana@contoso.example');
    await request(ctx.app)
      .post('/api/me/messages')
      .set('Authorization', `Bearer ${ana}`)
      .send({ to: ['partner@fabrikam.example'], subject: 'Sent during the outage', html: '<p>Hello</p>' })
      .expect(201);
    ctx.services.scheduler.start();
  });
  afterAll(async () => {
    await ctx.services.scheduler.stop();
  });

  it('copies what users sent into Exchange Sent Items by itself, once, even when the end is dispatched twice', async () => {
    expect((await admin.get('/api/sent-items/write-back').expect(200)).body).toEqual({ state: 'never' });
    const ended = await eventEnded('alpha', 'staff');
    await ctx.services.sentItems.settled('alpha');
    const run = (await admin.get('/api/sent-items/write-back').expect(200)).body;
    expect(run).toMatchObject({ state: 'done', trigger: 'eventEnded', total: 1, copied: 1, failed: 0 });
    expect(sent('ana').map((m) => m.subject)).toEqual(['Sent during the outage']);
    expect(sent('ana')[0]!.isDraft).toBe(false);

    // The same end dispatched again (a firer that crashed before marking it dispatched): nothing starts.
    await ctx.services.reactions.emit('event:ended', ended);
    await ctx.services.sentItems.settled('alpha');
    expect((await admin.get('/api/sent-items/write-back').expect(200)).body).toEqual(run);
    expect(sent('ana')).toHaveLength(1);
    const audit = (await admin.get('/api/audit?limit=50').expect(200)).body.items.map((e: { action: string }) => e.action);
    expect(audit.filter((a: string) => a === 'sentItems.writeBack.started')).toHaveLength(1);
  });

  it('records for a tenant without a Graph connection that it cannot copy; its admin card says so', async () => {
    const other = await ctx.signIn('beta', 'basicAdministrator', 'admin@beta.test');
    await eventEnded('beta', 'beta-g1');
    await ctx.services.sentItems.settled('beta');
    const run = (await other.get('/api/sent-items/write-back').expect(200)).body;
    expect(run).toMatchObject({ state: 'unavailable', trigger: 'eventEnded' });
    expect(run.reason).toMatch(/no Microsoft Graph connection/);
  });
});
