/**
 * The per-user mailbox index on the real database: rows added delivery by delivery land in small
 * tails that merge into larger chunks, pages and search stay newest first, adding again is
 * idempotent, every chunk write is a new `_id` (no chunk is ever rewritten), a head from before
 * chunks were immutable is rebuilt, entries the sweeper removed leave only the chunks that held them,
 * the sweeper's reindex drops chunks no head lists, and the collections nothing reads any more (the
 * index before its sharding, the synced directory before generations) are dropped at start.
 */
import { createMailboxIndex, mailboxIndexModels, CHUNK_ROWS, TAIL_ROWS } from '../../server/mail/mailbox-index';
import type { MailboxEntryRecord } from '../../server/mail/model';
import { useLifeboat } from '../harness/context';
import { syncIndexes } from '../../server/services';

const ctx = useLifeboat();
const box = { tenantId: 'idx', userId: 'u-ida' };
const T0 = Date.parse('2026-11-01T08:00:00Z');

const entry = (i: number, folder: 'inbox' | 'sent' = 'inbox'): MailboxEntryRecord => ({
  _id: `idx:u-ida:${folder}:m${String(i).padStart(5, '0')}`,
  tenantId: 'idx',
  userId: 'u-ida',
  folder,
  messageKey: `idx:m${i}`,
  receivedAt: new Date(T0 + i * 1000),
  from: `sender${i % 7}@fabrikam.example`,
  to: ['ida@idx.test'],
  cc: [],
  subject: `Subject ${i} ${i % 10 === 0 ? 'quarterly' : 'daily'}`,
  date: null,
  preview: `preview ${i}`,
  hasAttachments: false,
  viaGroup: null,
  deliveryKeys: [],
});

let index: ReturnType<typeof createMailboxIndex>;
beforeAll(() => {
  index = createMailboxIndex(ctx.conn, { mailbox: ctx.services.mail.models.mailbox });
});

describe('the mailbox index', () => {
  it('keeps pages newest first across tails and merged chunks, and never rewrites a chunk id', async () => {
    const models = mailboxIndexModels(ctx.conn);
    const heads = models.heads('idx:u-ida:inbox');
    const seen = new Set<string>();
    const mailbox = ctx.services.mail.models.mailbox;
    for (let n = 0; n < 2 * CHUNK_ROWS + 30; n++) {
      const e = entry(n);
      await mailbox.create(e);
      await index.add([{ entry: e, body: `body of message ${n} word${n}` }]);
      const head = await heads.findById('idx:u-ida:inbox:head').lean<{ chunks: Array<{ id: string; count: number }> }>();
      for (const s of head!.chunks) seen.add(s.id);
    }
    const head = (await heads.findById('idx:u-ida:inbox:head').lean<{ chunks: Array<{ id: string; count: number }> }>())!;
    // Two merged chunks and a tail of 30; everything else is dropped, together, a moment later.
    expect(head.chunks.map((s) => s.count)).toEqual([CHUNK_ROWS, CHUNK_ROWS, 30]);
    await index.dropUnlisted();
    expect(await models.chunks('idx:u-ida:inbox').countDocuments({ tenantId: 'idx' })).toBe(3);
    // Each delivery wrote a new id: more ids were ever current than deliveries made merged chunks.
    expect(seen.size).toBeGreaterThan((2 * CHUNK_ROWS) / TAIL_ROWS);

    const page = await index.page(box, 'inbox', { limit: 50 });
    expect(page).toHaveLength(51);
    expect(page[0]!.m).toBe(`m${String(2 * CHUNK_ROWS + 29).padStart(5, '0')}`);
    const next = await index.page(box, 'inbox', { limit: 50, after: { at: page[49]!.at, m: page[49]!.m } });
    expect(next[0]!.at).toBeLessThan(page[49]!.at);
    const all: string[] = [];
    for (let after: { at: number; m: string } | undefined; ;) {
      const rows = await index.page(box, 'inbox', { limit: 50, after });
      all.push(...rows.slice(0, 50).map((r) => r.m));
      if (rows.length <= 50) break;
      after = { at: rows[49]!.at, m: rows[49]!.m };
    }
    expect(all).toHaveLength(2 * CHUNK_ROWS + 30);
    expect(new Set(all).size).toBe(all.length);

    const hits = await index.search(box, ['word123'], { limit: 50 });
    expect(hits.map((r) => r.m)).toEqual(['m00123']);
    expect((await index.search(box, ['quarterly'], { limit: 100 })).length).toBe((2 * CHUNK_ROWS + 30) / 10);
  });

  it('adds a row only once when routing runs again', async () => {
    const before = await index.page(box, 'inbox', { limit: 1000 });
    const last = entry(2 * CHUNK_ROWS + 29);
    await index.add([{ entry: last, body: 'again' }]);
    expect(await index.page(box, 'inbox', { limit: 1000 })).toHaveLength(before.length);
  });

  it('removes swept entries by rewriting only the chunks that held them', async () => {
    const models = mailboxIndexModels(ctx.conn);
    const read = async () => (await models.heads('idx:u-ida:inbox').findById('idx:u-ida:inbox:head').lean<{ chunks: Array<{ id: string; count: number }> }>())!;
    const before = await read();
    expect(before.chunks.map((s) => s.count)).toEqual([CHUNK_ROWS, CHUNK_ROWS, 30]);
    // One row of the first merged chunk and the whole tail go; the second merged chunk is not touched.
    const tail = Array.from({ length: 30 }, (_, i) => entry(2 * CHUNK_ROWS + i));
    await index.remove([entry(10), ...tail]);
    const after = await read();
    expect(after.chunks.map((s) => s.count)).toEqual([CHUNK_ROWS - 1, CHUNK_ROWS]);
    expect(after.chunks[1]!.id).toBe(before.chunks[1]!.id);
    expect(after.chunks[0]!.id).not.toBe(before.chunks[0]!.id);
    const page = await index.page(box, 'inbox', { limit: 1000 });
    expect(page).toHaveLength(2 * CHUNK_ROWS - 1);
    expect(page.map((r) => r.m)).not.toContain('m00010');
    expect(page[0]!.m).toBe(`m${String(2 * CHUNK_ROWS - 1).padStart(5, '0')}`);
    expect(await index.search(box, ['word10'], { limit: 50 })).toEqual(expect.not.arrayContaining([expect.objectContaining({ m: 'm00010' })]));
    // Nothing to remove: the head is not written again.
    await index.remove([entry(10)]);
    expect(await read()).toEqual(after);
    // Put back for the tests below, as routing again would.
    for (const e of [entry(10), ...tail]) await index.add([{ entry: e, body: `body of message again` }]);
    expect(await index.page(box, 'inbox', { limit: 1000 })).toHaveLength(2 * CHUNK_ROWS + 30);
  });

  it('rebuilds a head written before chunks were immutable, and the sweep drops chunks no head lists', async () => {
    const models = mailboxIndexModels(ctx.conn);
    const heads = models.heads('idx:u-ida:sent');
    const chunks = models.chunks('idx:u-ida:sent');
    // As a database from before the index: the tenant not marked indexed.
    await models.state.deleteMany({ _id: 'idx' });
    const sent = entry(900, 'sent');
    await ctx.services.mail.models.mailbox.create(sent);
    // An old-style head: numbered spans and numbered chunks.
    await heads.replaceOne(
      { _id: 'idx:u-ida:sent:head' },
      { _id: 'idx:u-ida:sent:head', tenantId: 'idx', chunks: [{ n: 0, count: 1, minAt: 0, maxAt: 0 }] },
      { upsert: true },
    );
    await chunks.collection.insertOne({ _id: 'idx:u-ida:sent:0', tenantId: 'idx', z: Buffer.from('not rows') } as never);
    const rows = await index.page(box, 'sent', { limit: 50 });
    expect(rows.map((r) => r.m)).toEqual(['m00900']);
    await index.reindexTenant('idx');
    expect(await chunks.findById('idx:u-ida:sent:0').lean()).toBeNull();
    expect((await index.search(box, ['word123'], { limit: 5 })).map((r) => r.m)).toEqual(['m00123']);
  });
});

test('an upgraded database drops the collections nothing reads any more at start (old index, old synced directory)', async () => {
  const db = ctx.conn.db!;
  await db.collection('mailboxindexheads').insertOne({ _id: 'idx:u-old:inbox:head', tenantId: 'idx', chunks: [] } as never);
  await db.collection('mailboxindexchunks').insertOne({ _id: 'idx:u-old:inbox:0', tenantId: 'idx', z: Buffer.from('old') } as never);
  await db.collection('synceddirectoryusers').insertOne({ _id: 'idx:u-old', tenantId: 'idx', mail: 'old@idx.test', mobilePhone: '+15550100' } as never);
  await db.collection('synceddirectorygroups').insertOne({ _id: 'idx:g-old', tenantId: 'idx', displayName: 'Old' } as never);
  await syncIndexes(ctx.conn);
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
  for (const retired of ['mailboxindexheads', 'mailboxindexchunks', 'synceddirectoryusers', 'synceddirectorygroups']) expect(names).not.toContain(retired);
  // The index of today is untouched.
  expect(await mailboxIndexModels(ctx.conn).heads('idx:u-ida:inbox').countDocuments({ tenantId: 'idx' })).toBeGreaterThan(0);
});
