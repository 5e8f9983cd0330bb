/**
 * npm run bench:smtp [-- --messages N --rounds R]
 *
 * 10 KB messages over 5, 10 and 20 connections into Lifeboat's receiver with the embedded database,
 * set up as the server runs it (each 250 only after the message is synced to the spool; the database
 * write follows), and in the same run into a bare smtp-server that
 * discards the data (the baseline). Prints msgs/s for both (medians of R alternating runs) and the
 * ratio. Routing (continuity mailbox copy, queue row) runs in the background after each 250; the
 * time until all were routed is printed too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { openConnection } from '../server/db/connection';
import { startEmbeddedDatabase } from '../server/db/embedded/ferretdb';
import { createLogger } from '../server/log';
import { createReceiver } from '../server/mail/receiver';
import { createServices, syncIndexes } from '../server/services';
import { simpleMessage, smtpSession } from '../test/harness/smtp-peers';
import { cpuMs } from './cpu';
import { runBench } from './cli';

const i = process.argv.indexOf('--messages');
const N = i > 0 ? Number(process.argv[i + 1]) : 600;
const r = process.argv.indexOf('--rounds');
const ROUNDS = r > 0 ? Number(process.argv[r + 1]) : 3;
const BODY = 'x'
  .repeat(76)
  .concat('\r\n')
  .repeat(Math.ceil((10 * 1024) / 78));

async function blast(port: number, connections: number, total: number): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const s = await smtpSession(port);
      await s.command('EHLO bench.example');
      for (let n = next++; n < total; n = next++) {
        const to = `user${n % 5}@bench.test`;
        await s.command('MAIL FROM:<sender@bench.example>');
        await s.command(`RCPT TO:<${to}>`);
        const reply = await s.data(simpleMessage({ from: 'sender@bench.example', to, subject: `bench ${n}`, body: BODY }));
        if (!reply.startsWith('250')) throw new Error(`message ${n} refused: ${reply}`);
      }
      await s.quit();
    }),
  );
  return total / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-smtp-'));
  const db = await startEmbeddedDatabase({ dataDir: dir });
  const conn = await openConnection(db.uri, 'bench');
  const services = createServices(conn, { sessionHours: 1, logger: createLogger('silent'), secret: 'bench-secret-0123456789abcdef0123456789' });
  await syncIndexes(conn);
  await services.directory.importDirectory({
    tenant: { id: 'bench', name: 'Bench', domains: ['bench.test'] },
    users: Array.from({ length: 5 }, (_, n) => ({ id: `u${n}`, displayName: `User ${n}`, mail: `user${n}@bench.test` })),
    groups: [],
  });
  // As the server runs it: through the spool in its data directory.
  await services.mail.useSpool(path.join(dir, 'spool'));
  const receiver = createReceiver({ mail: services.mail, logger: createLogger(process.env.LOG_LEVEL ?? 'silent') });
  const lifeboatPort = await receiver.listen(0, '127.0.0.1');

  const bare = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => callback());
    },
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const barePort = (bare.server.address() as AddressInfo).port;

  // The machine may be shared: each figure is the median of ROUNDS runs, baseline and Lifeboat
  // alternating, so a burst of outside load hits both alike.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`${N} messages of 10 KB per run, median of ${ROUNDS} alternating runs (cores: ${os.cpus().length}, load average ${os.loadavg()[0]!.toFixed(1)})`);
  console.log('connections | baseline msgs/s | lifeboat msgs/s | ratio | ratio range | all routed after');
  const cpuLines: string[] = [];
  for (const c of [5, 10, 20]) {
    await blast(barePort, c, Math.min(200, N)); // warm-up
    await blast(lifeboatPort, c, Math.min(200, N));
    while (services.mail.unrouted() > 0) await new Promise((r) => setTimeout(r, 100));
    const base: number[] = [];
    const ours: number[] = [];
    const routed: number[] = [];
    const cpu = { base: 0, node: 0, db: 0, routing: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      let before = cpuMs(db.pid);
      base.push(await blast(barePort, c, N));
      let after = cpuMs(db.pid);
      cpu.base += after.node - before.node;
      before = after;
      const started = Date.now();
      ours.push(await blast(lifeboatPort, c, N));
      after = cpuMs(db.pid);
      cpu.node += after.node - before.node;
      cpu.db += after.db - before.db;
      // Routing (continuity mailbox copy, queue row) runs after the 250s; wait until all are routed.
      while (services.mail.unrouted() > 0) await new Promise((r) => setTimeout(r, 100));
      routed.push((Date.now() - started) / 1000);
      const end = cpuMs(db.pid);
      cpu.routing += end.node - after.node + (end.db - after.db);
    }
    cpuLines.push(
      `${String(c).padStart(11)} | ${(cpu.base / (N * ROUNDS)).toFixed(2).padStart(13)} | ${(cpu.node / (N * ROUNDS)).toFixed(2).padStart(13)} | ${(cpu.db / (N * ROUNDS)).toFixed(2).padStart(9)} | ${(cpu.routing / (N * ROUNDS)).toFixed(2).padStart(15)}`,
    );
    const ratios = ours.map((o, i) => o / base[i]!);
    console.log(
      `${String(c).padStart(11)} | ${median(base).toFixed(0).padStart(15)} | ${median(ours).toFixed(0).padStart(15)} | ${(median(ours) / median(base)).toFixed(2).padStart(5)} | ${`${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`.padStart(11)} | ${median(routed).toFixed(1)} s`,
    );
  }
  console.log('CPU per message (ms; while receiving; "after" = routing that ran after the last 250):');
  console.log('connections | baseline node | Lifeboat node | database | routing after');
  for (const line of cpuLines) console.log(line);
  await receiver.close();
  await new Promise<void>((r) => bare.close(() => r()));
  await services.mail.worker.stop();
  await conn.close();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

runBench(main);
