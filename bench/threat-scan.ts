/**
 * npm run bench:threat-scan — 50 mailboxes × 400 messages in the Graph stand-in (each mailbox request
 * taking BENCH_LATENCY_MS, the 4-in-flight-per-mailbox limit enforced), scanned by Lifeboat's Threat
 * Scan (the real services on an embedded database, the real Graph SDK). Prints messages/s scanned and
 * the ratio to the judge alone on the same messages (goal ≥ 0.7×).
 *
 * The judge here parses each message (mailparser) and looks for GTUBE and EICAR: a stand-in for the
 * protection pipeline's cost until server/protection's judge is plugged in (then the ratio means more).
 * BENCH_MAILBOXES / BENCH_MESSAGES / BENCH_LATENCY_MS change the size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { addinConfigFromEnv, DEMO_DIRECTORY_FILE, dnsConfigFromEnv } from '../server/config';
import { SYSTEM_CONTEXT } from '../server/audit/context';
import { openConnection } from '../server/db/connection';
import { startEmbeddedDatabase } from '../server/db/embedded/ferretdb';
import { startLifeboat } from '../server/lifecycle';
import { createLogger } from '../server/log';
import type { MessageJudge } from '../server/threat-scan/judge';
import { startStandIns, StandInWorld } from '../test/stand-ins/entra';
import { assertCertificateTrusted } from '../test/stand-ins/tls';

const MAILBOXES = Number(process.env.BENCH_MAILBOXES ?? 50);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 400);
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 5);
const CLIENT_ID = '0b1e5c5e-0000-4000-8000-00000000be7d';
const SECRET = 'bench-client-secret-value';
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

const judge: MessageJudge = {
  async judge(raw) {
    const parsed = await simpleParser(raw);
    const text = `${parsed.subject ?? ''}\n${parsed.text ?? ''}`;
    return text.includes(GTUBE) ? { verdict: 'spam', evidence: { symbols: ['GTUBE'] } } : { verdict: 'clean', evidence: {} };
  },
};

function message(n: number): string {
  const body = `Hello,\r\n\r\n${'Quarterly figures attached as discussed. '.repeat(40)}\r\n${n % 50 === 0 ? GTUBE : ''}\r\n`;
  return [
    `From: sender${n % 97}@partner.example`,
    'To: user@contoso.example',
    `Subject: Message ${n}`,
    `Message-ID: <bench-${n}@partner.example>`,
    'Content-Type: text/plain',
    '',
    body,
  ].join('\r\n');
}

async function main() {
  assertCertificateTrusted();
  const world = new StandInWorld();
  world.mail.options.latencyMs = LATENCY;
  const tenant = world.addTenant();
  tenant.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
  tenant.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All', 'Mail.ReadWrite'] });
  const raws: Buffer[] = [];
  for (let u = 0; u < MAILBOXES; u++) {
    const id = `user-${u}`;
    tenant.putUser({ id, displayName: `User ${u}`, mail: `${id}@contoso.example`, userPrincipalName: `${id}@contoso.example` });
    for (let n = 0; n < MESSAGES; n++) {
      const raw = message(u * MESSAGES + n);
      tenant.mailbox(id).deliver(raw, new Date(Date.now() - (n % 29) * 86_400_000));
      raws.push(Buffer.from(raw));
    }
  }
  const standIns = await startStandIns(world);
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
      threatScan: { judge, pollMs: 50, pageSize: 50 },
    },
    app: { directoryFile: DEMO_DIRECTORY_FILE, publicUrl: 'http://localhost', addin: addinConfigFromEnv({}, 'http://localhost'), dns: dnsConfigFromEnv({}) },
    loops: ['threatScan'],
  });
  try {
    const s = running.services;
    await s.tenants.upsert({ id: 'contoso', name: 'Contoso', domains: ['contoso.example'] }, 'graph');
    await s.entra.connections.set('contoso', { entraTenantId: tenant.id, clientId: CLIENT_ID, clientSecret: SECRET });
    await s.entra.sync.start('contoso', { full: true });
    await s.entra.sync.settled('contoso');
    const admin = { tenantId: 'contoso', adminId: 'bench', email: 'bench@contoso.example', displayName: 'Bench', role: 'fullAdministrator' as const };
    const t0 = performance.now();
    const scan = await s.threatScan.startScan(admin, { days: 30 }, SYSTEM_CONTEXT);
    let view = scan;
    while (view.state === 'running') {
      await new Promise((r) => setTimeout(r, 200));
      view = await s.threatScan.view('contoso', scan.id);
    }
    const scanMs = performance.now() - t0;
    const scanned = view.progress.messagesScanned;
    const maxInFlight = Math.max(...[...tenant.mailboxes.values()].map((m) => m.maxInFlight));
    const refused = [...tenant.mailboxes.values()].reduce((a, m) => a + m.refused, 0);

    const t1 = performance.now();
    for (let i = 0; i < raws.length; i += 64)
      await Promise.all(raws.slice(i, i + 64).map((raw) => judge.judge(raw, { tenantId: 'contoso', recipient: 'x@contoso.example', userId: 'x', messageId: 'x', source: 'graph' })));
    const judgeMs = performance.now() - t1;

    const scanRate = scanned / (scanMs / 1000);
    const judgeRate = raws.length / (judgeMs / 1000);
    console.log(`${MAILBOXES} mailboxes × ${MESSAGES} messages, ${LATENCY} ms per Graph request, state ${view.state}`);
    console.log(
      `threat scan: ${scanned} messages in ${(scanMs / 1000).toFixed(1)} s = ${scanRate.toFixed(0)} msgs/s (throttled ${view.progress.throttled}, skipped mailboxes ${view.progress.mailboxesSkipped})`,
    );
    console.log(`graph requests: ${world.requests.length}, token requests: ${world.tokenRequests}`);
    console.log(`per-mailbox requests in flight: at most ${maxInFlight} (limit 4); refused by the limit: ${refused}`);
    console.log(`judge alone: ${raws.length} messages in ${(judgeMs / 1000).toFixed(1)} s = ${judgeRate.toFixed(0)} msgs/s`);
    console.log(`ratio scan / judge alone: ${(scanRate / judgeRate).toFixed(2)}× (goal ≥ 0.7×)`);
  } finally {
    await running.lifecycle.stop();
    await embedded.stop();
    await standIns.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
