/**
 * The mail path on the embedded database's rules (FerretDB v1 uses an index only for a filter that is
 * exactly `{_id}`, and scans the collection for every other find, every update and every delete): mail
 * for many different users of a directory-file tenant reads the directory once, not per recipient; the
 * first message to each mailbox does not look through the mailbox entries; and the index's head
 * switches and tail drops go to its per-mailbox shards, never to one collection of every mailbox.
 */
import { mailboxIndexModels, SHARDS, shardOf } from '../../server/mail/mailbox-index';
import { createLogger } from '../../server/log';
import { createReceiver } from '../../server/mail/receiver';
import { useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { sendOne, simpleMessage } from '../harness/smtp-peers';

const USERS = 40;
const ctx = useLifeboat({
  directories: [
    {
      tenant: { id: 'hot', name: 'Hot path', domains: ['hot.test'] },
      users: Array.from({ length: USERS }, (_, n) => ({ id: `u${n}`, displayName: `User ${n}`, mail: `user${n}@hot.test` })),
      groups: [{ id: 'g-all', displayName: 'Everyone', mail: 'everyone@hot.test', mailEnabled: true, securityEnabled: false, members: ['u0', 'u1'] }],
    },
  ],
});

let receiver: ReturnType<typeof createReceiver>;
let port: number;
beforeAll(async () => {
  receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent') });
  port = await receiver.listen(0, '127.0.0.1');
});
afterAll(async () => {
  ctx.conn.set('debug', false);
  await receiver?.close();
});

interface Call {
  collection: string;
  method: string;
  filter: unknown;
}

// Through the driver, not mongoose: the test's own polling is not what it measures.
const raw = (collection: string) => ctx.conn.getClient().db(ctx.conn.name).collection(collection);
const inboxCount = (userId: string) => raw('mailboxentries').countDocuments({ tenantId: 'hot', userId, folder: 'inbox' });
const byIdOnly = (filter: unknown) =>
  typeof filter === 'object' && filter !== null && Object.keys(filter).length === 1 && '_id' in filter && typeof (filter as { _id: unknown })._id !== 'object';

test('mail for 40 users: one directory read, no mailbox-entry scan, index writes only in the mailboxes’ shards', async () => {
  // The tenant's first message: its index is made complete once (the mark), and its directory is read.
  const first = await sendOne(port, {
    from: 'news@fabrikam.example',
    to: ['user0@hot.test'],
    message: simpleMessage({ from: 'news@fabrikam.example', to: 'user0@hot.test', subject: 'first' }),
  });
  expect(first.data).toMatch(/^250/);
  await eventually(async () => expect(await inboxCount('u0')).toBe(1));
  await eventually(async () => expect(await raw('mailboxindexstate').countDocuments({ _id: 'hot' } as never)).toBe(1));
  await eventually(async () => expect(await mailboxIndexModels(ctx.conn).state.countDocuments({ _id: 'hot' })).toBe(1));

  const calls: Call[] = [];
  ctx.conn.set('debug', (collection: string, method: string, filter: unknown) => void calls.push({ collection, method, filter }));
  for (let n = 1; n < USERS; n++) {
    const to = `user${n}@hot.test`;
    const sent = await sendOne(port, {
      from: 'news@fabrikam.example',
      to: [to],
      message: simpleMessage({ from: 'news@fabrikam.example', to, subject: `hello ${n}` }),
    });
    expect(sent.data).toMatch(/^250/);
  }
  await eventually(async () => {
    for (let n = 1; n < USERS; n++) expect(await inboxCount(`u${n}`)).toBe(1);
  }, 30_000);
  ctx.conn.set('debug', false);

  const scans = (collection: string) => calls.filter((c) => c.collection === collection && c.method.startsWith('find') && !byIdOnly(c.filter));
  // At most one whole read of the directory in the 39 messages (its snapshot may expire once), not one per recipient.
  expect(scans('directoryusers').length).toBeLessThanOrEqual(1);
  expect(scans('directorygroups').length).toBeLessThanOrEqual(1);
  // A new mailbox of a tenant whose index is complete starts empty: the entries are not searched.
  expect(scans('mailboxentries')).toEqual([]);
  // A first delivery writes its mailbox's index by inserts alone: no update or delete (each a scan on FerretDB v1).
  const indexWrites = (from: number) => calls.slice(from).filter((c) => /^mailboxindex/.test(c.collection) && /^(update|replace|delete)/.test(c.method));
  expect(indexWrites(0)).toEqual([]);
  expect(calls.filter((c) => /^mailboxindexheads_/.test(c.collection) && c.method === 'insertOne')).toHaveLength(USERS - 1);

  // A second message: its head is replaced (and its old tail dropped, a moment later, with others of the
  // same shard), each in the shard of its own mailbox.
  const second = calls.length;
  ctx.conn.set('debug', (collection: string, method: string, filter: unknown) => void calls.push({ collection, method, filter }));
  for (let n = 1; n <= 5; n++) {
    const to = `user${n}@hot.test`;
    expect(
      (await sendOne(port, { from: 'news@fabrikam.example', to: [to], message: simpleMessage({ from: 'news@fabrikam.example', to, subject: 'again' }) })).data,
    ).toMatch(/^250/);
  }
  await eventually(async () => {
    for (let n = 1; n <= 5; n++) expect(await inboxCount(`u${n}`)).toBe(2);
  }, 30_000);
  // Each head is replaced once (the entries are counted before the index is written: wait for it too), and the
  // old tails go together a moment later.
  await eventually(() => {
    expect(indexWrites(second).filter((w) => w.method === 'replaceOne')).toHaveLength(5);
    expect(indexWrites(second).filter((w) => w.method === 'deleteMany').length).toBeGreaterThan(0);
  }, 10_000);
  ctx.conn.set('debug', false);
  for (const w of indexWrites(second)) {
    expect(w.collection).toMatch(/^mailboxindex(heads|chunks)_[0-9a-f]{2}$/);
    const filterId = (w.filter as { _id: string | { $in: string[] } })._id;
    for (const id of typeof filterId === 'string' ? [filterId] : filterId.$in) expect(w.collection.slice(-2)).toBe(shardOf(id.slice(0, id.lastIndexOf(':'))));
  }
  // The 40 mailboxes are spread over many shards (a scan reads one of SHARDS small collections).
  const models = mailboxIndexModels(ctx.conn);
  const used = new Set(Array.from({ length: USERS }, (_, n) => shardOf(`hot:u${n}:inbox`)));
  expect(used.size).toBeGreaterThan(USERS / 2);
  expect(await models.heads('hot:u7:inbox').countDocuments({})).toBeLessThan(USERS / 4);
  expect(SHARDS).toBeGreaterThanOrEqual(64);
}, 120_000);
