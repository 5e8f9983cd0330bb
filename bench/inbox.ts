/**
 * npm run bench:inbox — the web inbox's API on the embedded database with a 5,000-message mailbox:
 * the messages go in through the mail service's receive path (stored, routed, indexed, as SMTP mail
 * is), then the first inbox page and searches are asked for over HTTP as the signed-in user. Prints
 * the dataset size and p50 / p95 of each (targets: first page p95 ≤ 100 ms, search p95 ≤ 300 ms).
 *
 * `-- --messages N` changes the mailbox size; `--runs R` the number of timed requests of each kind (the
 * options are arguments, as in bench:smtp: process.env is read only by server/config.ts).
 */
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { SYSTEM_CONTEXT } from '../server/audit/context';
import { DEMO_DIRECTORY_FILE } from '../server/config';
import { openConnection } from '../server/db/connection';
import { startEmbeddedDatabase } from '../server/db/embedded/ferretdb';
import { readDirectoryFile } from '../server/directory/file-provider';
import { createLogger } from '../server/log';
import { ENGINES_OFF } from '../server/protection/engines';
import { createServices, syncIndexes } from '../server/services';
import { listenApp } from './http-server';
import { numberArg, runBench } from './cli';

const MESSAGES = numberArg('--messages', 5000);
const RUNS = numberArg('--runs', 100);
const ADA = { id: 'u-ada', email: 'ada@contoso.test', password: 'bench cloud password 2026' };
const WORDS = 'budget invoice travel quarterly roadmap lunch meeting contract review outage customer launch hiring offsite report'.split(' ');

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const fmt = (xs: number[]) =>
  `p50 ${pct(xs, 50).toFixed(1)} ms, p95 ${pct(xs, 95).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (${xs.length} requests)`;

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-inbox-'));
  const db = await startEmbeddedDatabase({ dataDir: dir, log: () => {} });
  const conn = await openConnection(db.uri, 'bench_inbox');
  const logger = createLogger('warn');
  // The inbox API is measured, not the scanners: without engines configured every message would wait in a
  // scan hold for a scanner that never comes (the mailbox never fills), so content scanning is off here.
  const services = createServices(conn, {
    sessionHours: 12,
    logger,
    secret: 'bench-secret-0123456789abcdef0123456789abcdef',
    userTokenMinutes: 60,
    protection: { defaultMode: 'disabled', engines: () => ENGINES_OFF },
  });
  await syncIndexes(conn);
  const [doc] = readDirectoryFile(DEMO_DIRECTORY_FILE);
  await services.directory.importDirectory(doc!);
  await services.userAuth.setOwnCloudPassword('contoso', ADA.id, ADA.password, { ...SYSTEM_CONTEXT, via: 'bench' });
  const mail = services.mail;
  await mail.useSpool(path.join(dir, 'spool'));
  mail.worker.start();

  const started = Date.now();
  for (let i = 0; i < MESSAGES; i++) {
    const w = (k: number) => WORDS[(i * 7 + k * 3) % WORDS.length];
    const raw = await new MailComposer({
      from: `Sender ${i % 97} <sender${i % 97}@fabrikam.example>`,
      to: ADA.email,
      subject: `${w(0)} ${w(1)} #${i}`,
      text: `Message ${i} about the ${w(2)} and the ${w(3)}. ${'Some ordinary body text. '.repeat(8)}token${i}`,
    })
      .compile()
      .build();
    await mail.accept({
      tenantId: 'contoso',
      mailFrom: `sender${i % 97}@fabrikam.example`,
      recipients: [{ address: ADA.email, kind: 'user', id: ADA.id }],
      raw,
      remoteAddress: '127.0.0.1',
    });
  }
  // Routing runs behind the 250s: wait until every message is in the mailbox.
  for (;;) {
    const n = await mail.models.mailbox.countDocuments({ tenantId: 'contoso', userId: ADA.id });
    if (n >= MESSAGES) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`dataset: ${MESSAGES} messages in ${ADA.email}'s continuity mailbox (stored and routed in ${((Date.now() - started) / 1000).toFixed(0)} s)`);

  const server = await listenApp(conn, services, logger, '127.0.0.1');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const login = await fetch(`${base}/api/user-auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADA) });
  const { token } = (await login.json()) as { token: string };
  const get = async (url: string) => {
    const t = performance.now();
    const res = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { items: unknown[] };
    if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
    return { ms: performance.now() - t, count: body.items.length };
  };

  await get('/api/me/mailbox?folder=inbox'); // warm-up (the first read after start)
  const first: number[] = [];
  for (let i = 0; i < RUNS; i++) first.push((await get('/api/me/mailbox?folder=inbox')).ms);
  const search: number[] = [];
  let hits = 0;
  for (let i = 0; i < RUNS; i++) {
    const q = i % 2 ? `${WORDS[i % WORDS.length]} ${WORDS[(i + 5) % WORDS.length]}` : `token${(i * 37) % MESSAGES}`;
    const r = await get(`/api/me/search?q=${encodeURIComponent(q)}`);
    search.push(r.ms);
    hits += r.count;
  }
  // The figures depend on what else the machine runs: say so beside them.
  console.log(
    `machine: ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} (1 / 5 / 15 min)`,
  );
  console.log(`first inbox page (50 of ${MESSAGES}): ${fmt(first)}  target p95 ≤ 100 ms: ${pct(first, 95) <= 100 ? 'met' : 'NOT met'}`);
  console.log(`search (${MESSAGES} messages, ${hits} results in all): ${fmt(search)}  target p95 ≤ 300 ms: ${pct(search, 95) <= 300 ? 'met' : 'NOT met'}`);

  server.close();
  await mail.stop();
  await services.scheduler.stop().catch(() => {});
  await conn.close();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
}

runBench(main);
