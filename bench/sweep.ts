/**
 * npm run bench:sweep — what the retention sweep costs the mailbox index on the embedded database, for a
 * tenant of many mailboxes: the whole-tenant reindex (what every sweep that removed entries ran before;
 * now once a day) against taking the removed entries out of their folders only (every other sweep). One
 * sweep's worth of expired mail is one message in each of `--aged` mailboxes (the mail that arrived in
 * ten minutes, retention days ago). Both are measured in the same run on the same data, `--runs` times
 * each, alternating; prints the medians and their ratio.
 *
 * `-- --mailboxes N --messages M --aged K --runs R` (defaults 500, 20, 50, 3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openConnection } from '../server/db/connection';
import { startEmbeddedDatabase } from '../server/db/embedded/ferretdb';
import { createMailboxIndex } from '../server/mail/mailbox-index';
import { mailModels, type MailboxEntryRecord } from '../server/mail/model';
import { syncIndexes } from '../server/services';
import { numberArg, runBench } from './cli';

const MAILBOXES = numberArg('--mailboxes', 500);
const MESSAGES = numberArg('--messages', 20);
const AGED = numberArg('--aged', 50);
const RUNS = numberArg('--runs', 3);
const T0 = Date.parse('2026-11-01T08:00:00Z');
const TENANT = 'bench';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function entry(user: number, n: number): MailboxEntryRecord {
  return {
    _id: `${TENANT}:u${user}:inbox:m${user}x${n}`,
    tenantId: TENANT,
    userId: `u${user}`,
    folder: 'inbox',
    messageKey: `${TENANT}:m${user}x${n}`,
    receivedAt: new Date(T0 + n * 60_000 + user),
    from: `sender${n % 13}@fabrikam.example`,
    to: [`user${user}@contoso.test`],
    cc: [],
    subject: `Message ${n} for user ${user}`,
    date: null,
    preview: `preview of message ${n}`,
    hasAttachments: false,
    viaGroup: null,
    deliveryKeys: [],
  };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-sweep-'));
  const db = await startEmbeddedDatabase({ dataDir: dir, log: () => {} });
  const conn = await openConnection(db.uri, 'bench_sweep');
  try {
    await syncIndexes(conn);
    const mailbox = mailModels(conn).mailbox;
    const index = createMailboxIndex(conn, { mailbox });
    const all: MailboxEntryRecord[] = [];
    for (let u = 0; u < MAILBOXES; u++) for (let n = 0; n < MESSAGES; n++) all.push(entry(u, n));
    for (let i = 0; i < all.length; i += 500) await mailbox.insertMany(all.slice(i, i + 500));
    await index.reindexTenant(TENANT);
    console.log(`tenant: ${MAILBOXES} mailboxes × ${MESSAGES} messages; one sweep removes one message from each of ${AGED} mailboxes`);

    const full: number[] = [];
    const partial: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      full.push(await timed(() => index.reindexTenant(TENANT)));
      // A different oldest message each run; put back afterwards, so every run removes from the same data.
      const aged = Array.from({ length: AGED }, (_, i) => entry(Math.floor((i * MAILBOXES) / AGED), run));
      partial.push(await timed(() => index.remove(aged)));
      await index.add(aged.map((e) => ({ entry: e, body: '' })));
      await index.dropUnlisted();
    }
    const f = median(full);
    const p = median(partial);
    console.log(`whole-tenant reindex:        median ${f.toFixed(0)} ms  (${full.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`removed entries' folders:    median ${p.toFixed(0)} ms  (${partial.map((x) => x.toFixed(0)).join(', ')})`);
    console.log(`ratio: a sweep's index work is ${(f / p).toFixed(1)}× cheaper (${(p / f).toFixed(3)}× of the reindex)`);
  } finally {
    await conn.close();
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

runBench(main);
