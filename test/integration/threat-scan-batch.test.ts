/**
 * The Threat Scan's Graph JSON batching (server/threat-scan/graph-batch.ts) against the HTTPS Graph stand-in,
 * through the real msal-node and Graph SDK: MIME fetched by `POST /$batch` (never one GET per message), a
 * request Graph throttles inside a batch (its own 429 with Retry-After) retried without losing its message,
 * the per-mailbox limit holding for requests inside batches, and the stand-in refusing a fifth request to a
 * mailbox inside one batch as Graph does.
 */
import { createGraphClientFactory, GraphRequestError, type GraphApi } from '../../server/directory/graph/client';
import { createGraphBatcher } from '../../server/threat-scan/graph-batch';
import { createMailboxLimiter } from '../../server/threat-scan/limiter';
import { IMMUTABLE_IDS } from '../../server/threat-scan/mailbox-scan';
import { useGraphStandIns } from '../harness/graph-stand-ins';
import { StandInWorld } from '../stand-ins/entra';

const CLIENT_ID = '31111111-2222-4333-8444-555555555555';
const SECRET = 'batch-app-secret-value-1234';
const world = new StandInWorld();
const contoso = world.addTenant('bbbbbbbb-0000-4000-8000-0000000000b7');
contoso.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Mail.Read'] });
for (const id of ['ana', 'ben']) contoso.putUser({ id, displayName: id, mail: `${id}@contoso.example`, userPrincipalName: `${id}@contoso.example` });
const mime = (user: string, n: number) => `From: a@partner.example\r\nSubject: ${user} ${n}\r\nMessage-ID: <${user}-${n}@test>\r\n\r\nbody ${user} ${n}\r\n`;
const ids: Record<string, string[]> = {};
for (const user of ['ana', 'ben']) ids[user] = Array.from({ length: 8 }, (_, n) => contoso.mailbox(user).deliver(mime(user, n)).immutableId);
const path = (user: string, id: string) => `/users/${user}/messages/${id}/$value`;

const standIns = useGraphStandIns(world);
let api: GraphApi;
let throttled: number[] = [];
beforeAll(async () => {
  const factory = createGraphClientFactory(standIns.graph());
  api = factory.client({ tenantId: 'contoso', entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET, version: '1' });
});
beforeEach(() => {
  world.requests.length = 0;
  world.clearFaults();
  world.mail.options.latencyMs = 20; // requests of a batch overlap in the stand-in, as in Exchange
  throttled = [];
  for (const box of contoso.mailboxes.values()) box.maxInFlight = box.refused = 0;
});

const batchRequests = () => world.requests.filter((r) => r.method === 'POST' && r.path === '/v1.0/$batch').length;

it('fetches the MIME of several mailboxes in one batch, each request within its mailbox limit', async () => {
  const batcher = createGraphBatcher();
  const limiter = createMailboxLimiter(4);
  const bodies = await Promise.all(
    ['ana', 'ben'].flatMap((user) =>
      ids[user]!.map((id) => limiter.run(user, () => batcher.getBytes(api, 'contoso', path(user, id), IMMUTABLE_IDS, (s) => throttled.push(s)))),
    ),
  );
  expect(bodies.map((b) => b.toString())).toEqual(['ana', 'ben'].flatMap((user) => Array.from({ length: 8 }, (_, n) => mime(user, n))));
  expect(world.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/$value'))).toHaveLength(16); // all inside batches
  expect(batchRequests()).toBeGreaterThanOrEqual(2);
  expect(batchRequests()).toBeLessThan(16);
  for (const user of ['ana', 'ben']) {
    expect(contoso.mailbox(user).maxInFlight).toBeLessThanOrEqual(4);
    expect(contoso.mailbox(user).refused).toBe(0);
  }
  expect(throttled).toEqual([]);
});

it('retries a request throttled inside a batch after its Retry-After, without losing the message', async () => {
  // No limiter on our side: six requests to one mailbox in one batch, and Graph refuses the fifth and sixth.
  const batcher = createGraphBatcher({ maxRetries: 2 });
  const started = Date.now();
  const bodies = await Promise.all(
    ids.ana!.slice(0, 6).map((id) => batcher.getBytes(api, 'contoso', path('ana', id), IMMUTABLE_IDS, (s) => throttled.push(s))),
  );
  expect(bodies.map((b) => b.toString())).toEqual(Array.from({ length: 6 }, (_, n) => mime('ana', n)));
  expect(contoso.mailbox('ana').refused).toBe(2);
  expect(contoso.mailbox('ana').maxInFlight).toBe(4);
  expect(throttled).toEqual([429, 429]);
  expect(batchRequests()).toBe(2); // the first batch, then the two refused requests again
  expect(Date.now() - started).toBeGreaterThanOrEqual(world.mail.options.retryAfterSeconds * 1000); // Retry-After was waited
});

it('fails a request that stays throttled after its retries, and one that is gone, like single requests', async () => {
  world.fail(`/v1.0/users/ben/messages/${ids.ben![0]}`, 10, 429, 0);
  const batcher = createGraphBatcher({ maxRetries: 1 });
  const [stuck, gone, fine] = await Promise.allSettled([
    batcher.getBytes(api, 'contoso', path('ben', ids.ben![0]!), IMMUTABLE_IDS, (s) => throttled.push(s)),
    batcher.getBytes(api, 'contoso', path('ben', 'imm-no-such-message'), IMMUTABLE_IDS),
    batcher.getBytes(api, 'contoso', path('ben', ids.ben![1]!), IMMUTABLE_IDS),
  ]);
  expect(stuck).toMatchObject({ status: 'rejected', reason: expect.any(GraphRequestError) });
  expect((stuck as PromiseRejectedResult).reason.status).toBe(429);
  expect(gone).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ status: 404 }) });
  expect(fine).toMatchObject({ status: 'fulfilled' });
  expect(throttled).toEqual([429]);
});

it('refuses a batch of more than 20 requests, as Graph does', async () => {
  const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: path('ana', ids.ana![0]!) }));
  await expect(api.post('/$batch', { requests })).rejects.toMatchObject({ status: 400 });
});
