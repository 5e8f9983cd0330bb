/**
 * npm run bench:threat-scan — mailboxes of bench mail in the Graph stand-in (each mailbox request taking
 * --latency ms, the 4-in-flight-per-mailbox limit enforced), scanned by Lifeboat's Threat Scan (the real
 * services on an embedded database, the real Graph SDK). Prints messages/s scanned and the ratio to the
 * judge alone on the same messages (goal ≥ 0.7×), with the load average. The default size (20 × 100)
 * takes a few minutes; `-- --mailboxes 50 --messages 400` is issue 15's size.
 *
 * The judge is the real protection pipeline (mailauth against a DNS stand-in, rspamd and clamd started
 * as the tests start them, impersonation) behind the verdict store, as in production; "the scanner
 * alone" is the same pipeline called directly in-process on the same MIME (no Graph, no database), with as
 * many judgements at once as the scan allows itself (--judges), measured after the scan in the same run.
 * --engines off runs without rspamd and clamd (every verdict then `unscanned`: measures the plumbing only).
 * The BENCH_* variables of earlier versions still work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { addinConfigFromEnv, DEMO_DIRECTORY_FILE, dnsConfigFromEnv } from '../server/config';
import { SYSTEM_CONTEXT } from '../server/audit/context';
import { openConnection } from '../server/db/connection';
import { startEmbeddedDatabase } from '../server/db/embedded/ferretdb';
import { startLifeboat } from '../server/lifecycle';
import { createLogger } from '../server/log';
import { NO_ENGINES, type ProtectionEngines } from '../server/protection/engines';
import { envelopeFromHeaders } from '../server/protection/received';
import { startTestClamd, startTestRspamd } from '../test/harness/engines';
import { startDnsStandIn } from '../test/stand-ins/dns';
import { benchMessage, CLIENT_ID, SECRET, type GraphStats, type GraphWorld } from './threat-scan-mail';
import { assertCertificateTrusted } from '../test/stand-ins/tls';
import { runBench } from './cli';

const { values: args } = parseArgs({
  options: {
    mailboxes: { type: 'string', default: process.env.BENCH_MAILBOXES ?? '20' },
    messages: { type: 'string', default: process.env.BENCH_MESSAGES ?? '100' },
    latency: { type: 'string', default: process.env.BENCH_LATENCY_MS ?? '5' },
    engines: { type: 'string', default: process.env.BENCH_ENGINES ?? 'on' },
    /** Mailboxes scanned at once and judgements at once (the scan's own options; the judge alone gets the same). */
    concurrent: { type: 'string', default: '16' },
    judges: { type: 'string', default: '32' },
  },
});
const MAILBOXES = Number(args.mailboxes);
const MESSAGES = Number(args.messages);
const LATENCY = Number(args.latency);
const CONCURRENT = Number(args.concurrent);
const JUDGES = Number(args.judges);
const ENGINES = args.engines !== 'off';
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main() {
  assertCertificateTrusted();
  // Microsoft Graph runs in its own thread, as it runs on its own servers: its TLS and HTTP work is not
  // charged to the scanner's thread (in one thread the stand-in's half of every request doubled it).
  const graph = new Worker(path.join(__dirname, 'threat-scan-graph.ts'), {
    workerData: { mailboxes: MAILBOXES, messages: MESSAGES, latencyMs: LATENCY },
    execArgv: ['--import', 'tsx'],
  });
  const ask = <T>(what: string) =>
    new Promise<T>((resolve, reject) => {
      graph.once('message', (m: { what: string; body: T }) => (m.what === what ? resolve(m.body) : reject(new Error(`unexpected ${m.what}`))));
      graph.postMessage(what);
    });
  const standIns = await new Promise<GraphWorld>((resolve, reject) => {
    graph.once('message', (m: { what: string; body: GraphWorld }) => resolve(m.body));
    graph.once('error', reject);
  });
  const raws: Buffer[] = [];
  for (let u = 0; u < MAILBOXES; u++) for (let n = 0; n < MESSAGES; n++) raws.push(Buffer.from(benchMessage(u * MESSAGES + n)));
  const dns = await startDnsStandIn({});
  let engines: ProtectionEngines = NO_ENGINES;
  const rspamd = ENGINES ? await startTestRspamd(dns.server) : null;
  const clamd = ENGINES ? await startTestClamd() : null;
  if (rspamd && clamd) engines = { ...NO_ENGINES, rspamd: rspamd.client, clamd: clamd.client };
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-scan-'));
  const embedded = await startEmbeddedDatabase({ dataDir });
  const logger = createLogger('warn');
  const running = await startLifeboat({
    logger,
    openDatabase: async () => {
      const conn = await openConnection(embedded.uri);
      return { conn, close: async () => void (await conn.close()) };
    },
    services: {
      sessionHours: 1,
      logger,
      secret: 'bench-secret-0123456789abcdef0123456789abcdef',
      graph: { loginUrl: standIns.loginUrl, graphUrl: standIns.graphUrl },
      protection: { engines: () => engines, dnsServers: [dns.server] },
      threatScan: { pollMs: 50, pageSize: 50, concurrentMailboxes: CONCURRENT, judgeConcurrency: JUDGES },
    },
    app: { directoryFile: DEMO_DIRECTORY_FILE, publicUrl: 'http://localhost', addin: addinConfigFromEnv({}, 'http://localhost'), dns: dnsConfigFromEnv({}) },
    loops: ['threatScan'],
  });
  try {
    const s = running.services;
    await s.tenants.upsert({ id: 'contoso', name: 'Contoso', domains: ['contoso.example'] }, 'graph');
    await s.entra.connections.set('contoso', { entraTenantId: standIns.tenantId, clientId: CLIENT_ID, clientSecret: SECRET });
    await s.entra.sync.start('contoso', { full: true });
    await s.entra.sync.settled('contoso');
    const admin = { tenantId: 'contoso', adminId: 'bench', email: 'bench@contoso.example', displayName: 'Bench', role: 'fullAdministrator' as const };
    const loadBefore = load();
    const t0 = performance.now();
    const scan = await s.threatScan.startScan(admin, { days: 30 }, SYSTEM_CONTEXT);
    let view = scan;
    while (view.state === 'running') {
      await new Promise((r) => setTimeout(r, 200));
      view = await s.threatScan.view('contoso', scan.id);
    }
    const scanMs = performance.now() - t0;
    const scanned = view.progress.messagesScanned;
    const stats = await ask<GraphStats>('stats');
    const loadScan = load();

    // The scanner alone: the same pipeline on the same messages, as many at once as the scan judges at once.
    const inFlight = JUDGES;
    let next = 0;
    const t1 = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < raws.length; i = next++) {
          const raw = raws[i]!;
          const h = envelopeFromHeaders(raw);
          await s.protection.judge({ tenantId: 'contoso', raw }, { mailFrom: h.mailFrom, clientIp: h.clientIp, helo: h.helo, rcptTo: ['x@contoso.example'] });
        }
      }),
    );
    const judgeMs = performance.now() - t1;
    const loadJudge = load();
    const report = await s.threatScan.report('contoso', scan.id);

    const scanRate = scanned / (scanMs / 1000);
    const judgeRate = raws.length / (judgeMs / 1000);
    console.log(
      `${MAILBOXES} mailboxes × ${MESSAGES} messages, ${LATENCY} ms per Graph request, engines ${ENGINES ? 'rspamd + clamd' : 'off'}, ` +
        `${CONCURRENT} mailboxes at once, ${JUDGES} judgements at once, state ${view.state}`,
    );
    console.log(`load average (1 5 15 min): before ${loadBefore}, after the scan ${loadScan}, after the judge alone ${loadJudge}; ${os.cpus().length} cores`);
    console.log(`verdicts: ${JSON.stringify(report.counts)}`);
    console.log(
      `threat scan: ${scanned} messages in ${(scanMs / 1000).toFixed(1)} s = ${scanRate.toFixed(0)} msgs/s (throttled ${view.progress.throttled}, skipped mailboxes ${view.progress.mailboxesSkipped})`,
    );
    console.log(`graph requests: ${stats.requests}, token requests: ${stats.tokenRequests}`);
    console.log(`per-mailbox requests in flight: at most ${stats.maxInFlight} (limit 4); refused by the limit: ${stats.refused}`);
    console.log(`judge alone: ${raws.length} messages in ${(judgeMs / 1000).toFixed(1)} s = ${judgeRate.toFixed(0)} msgs/s`);
    console.log(`ratio scan / judge alone: ${(scanRate / judgeRate).toFixed(2)}× (goal ≥ 0.7×)`);
  } finally {
    await running.lifecycle.stop();
    await embedded.stop();
    await ask('close');
    await graph.terminate();
    await Promise.all([rspamd?.close(), clamd?.close(), dns.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(main);
