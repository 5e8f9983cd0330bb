/**
 * npm run bench:smtp [-- --messages N]
 *
 * 10 KB messages over 5, 10 and 20 connections into Lifeboat's receiver with the embedded database
 * (each 250 only after the message is stored), and in the same run into a bare smtp-server that
 * discards the data (the baseline). Prints msgs/s for both and the ratio. Routing (continuity mailbox
 * copy, queue row) runs in the background after each 250; the time until all were routed is printed too.
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

const i = process.argv.indexOf('--messages');
const N = i > 0 ? Number(process.argv[i + 1]) : 1200;
const BODY = 'x'.repeat(76).concat('\r\n').repeat(Math.ceil(10 * 1024 / 78));

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
  const receiver = createReceiver({ mail: services.mail, logger: createLogger('silent') });
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

  console.log(`${N} messages of 10 KB per run (cores: ${os.cpus().length})`);
  console.log('connections | baseline msgs/s | lifeboat msgs/s | ratio | all routed after');
  for (const c of [5, 10, 20]) {
    await blast(barePort, c, Math.min(200, N)); // warm-up
    const base = await blast(barePort, c, N);
    const started = Date.now();
    const ours = await blast(lifeboatPort, c, N);
    while (services.mail.unrouted() > 0) await new Promise((r) => setTimeout(r, 1000));
    const routedAfter = (Date.now() - started) / 1000;
    console.log(`${String(c).padStart(11)} | ${base.toFixed(0).padStart(15)} | ${ours.toFixed(0).padStart(15)} | ${(ours / base).toFixed(2).padStart(5)} | ${routedAfter.toFixed(1)} s`);
  }
  await receiver.close();
  await new Promise<void>((r) => bare.close(() => r()));
  await services.mail.worker.stop();
  await conn.close();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
