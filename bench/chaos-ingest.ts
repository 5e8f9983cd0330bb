/**
 * npm run chaos:ingest [-- --messages N --connections C --kills K]
 *
 * Sends N uniquely identified messages over C connections into the real server (server/main.ts with
 * its embedded database) while killing it with SIGKILL K times and restarting it each time. Senders
 * behave like an MTA: a message without a 250 is sent again (so a message stored just before a crash
 * may arrive twice: a duplicate, allowed by at-least-once). Afterwards the server is stopped and started
 * once more (at start it routes whatever was stored but not routed), stopped, and the database is checked:
 * every message that got 250 must be stored and have its recipient's queue row.
 * Prints sent, accepted, lost (must be 0) and duplicates.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openConnection } from '../server/db/connection';
import { startEmbeddedDatabase } from '../server/db/embedded/ferretdb';
import { mailModels } from '../server/mail/model';
import { readRaw } from '../server/mail/store';
import { freePort, killServerOutright, startServer, type ServerProcess } from '../test/harness/server-process';
import { simpleMessage, smtpSession } from '../test/harness/smtp-peers';
import { numberArg, runBench } from './cli';

const N = numberArg('messages', 600);
const C = numberArg('connections', 6);
const K = numberArg('kills', 3);
const USERS = 5;

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-chaos-'));
  const directoryFile = path.join(dataDir, 'directory.json');
  writeFileSync(
    directoryFile,
    JSON.stringify({
      tenant: { id: 'chaos', name: 'Chaos', domains: ['chaos.test'] },
      users: Array.from({ length: USERS }, (_, i) => ({ id: `u${i}`, displayName: `User ${i}`, mail: `user${i}@chaos.test` })),
      groups: [],
    }),
  );
  const smtpPort = await freePort();
  const env = {
    LIFEBOAT_DATA_DIR: dataDir,
    LIFEBOAT_RSPAMD_URL: 'off', // protection is not on the mail path yet: no embedded rspamd loading beside the bench
    LIFEBOAT_DIRECTORY_FILE: directoryFile,
    SMTP_PORT: String(smtpPort),
    LOG_LEVEL: 'error',
    LIFEBOAT_SECRET: 'chaos-secret-0123456789abcdef0123456789',
  };
  let server: ServerProcess = await startServer(env);

  const pending = Array.from({ length: N }, (_, i) => i);
  const accepted = new Map<number, string>(); // chaos id → queued-as id
  let attempts = 0;
  let done = false;

  async function sender(): Promise<void> {
    while (!done) {
      const id = pending.shift();
      if (id === undefined) {
        if (accepted.size >= N) return;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      let ok = false;
      try {
        const s = await Promise.race([smtpSession(smtpPort), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('connect timeout')), 5000))]);
        try {
          await s.command('EHLO chaos.example');
          // Several messages per connection, like an MTA.
          let current: number | undefined = id;
          while (current !== undefined) {
            attempts++;
            const to = `user${current % USERS}@chaos.test`;
            await s.command('MAIL FROM:<sender@chaos.example>');
            const rcpt = await s.command(`RCPT TO:<${to}>`);
            const reply = rcpt.startsWith('250')
              ? await s.data(simpleMessage({ from: 'sender@chaos.example', to, subject: `chaos ${current}`, body: `X-Chaos-Id ${current}` }))
              : rcpt;
            const m = /^250 .*queued as (\S+)/.exec(reply);
            if (m) accepted.set(current, m[1]!);
            else pending.push(current);
            if (reply.startsWith('421')) throw new Error('connection closed');
            current = Math.random() < 0.9 ? pending.shift() : undefined;
          }
          ok = true;
          await s.quit();
        } catch {
          // connection dropped mid-transaction (the server was killed): send it again later
        }
      } catch {
        // server not reachable (restarting)
      }
      if (!ok && !accepted.has(id)) {
        if (!pending.includes(id)) pending.push(id);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  const senders = Array.from({ length: C }, () => sender());
  for (let k = 0; k < K; k++) {
    const target = ((k + 1) * N) / (K + 1);
    while (accepted.size < target) await new Promise((r) => setTimeout(r, 20));
    killServerOutright(dataDir);
    await server.exited;
    console.log(`killed the server (SIGKILL) at ${accepted.size} accepted; restarting`);
    server = await startServer(env);
  }
  while (accepted.size < N) await new Promise((r) => setTimeout(r, 50));
  done = true;
  await Promise.all(senders);
  // Stop, then start once more: at start the server routes every stored but unrouted message before
  // it listens (the same recovery a crash relies on); then stop it cleanly.
  await server.stop('SIGINT');
  server = await startServer(env);
  await server.stop('SIGINT');

  const db = await startEmbeddedDatabase({ dataDir: path.join(dataDir, 'db') });
  const conn = await openConnection(db.uri);
  const models = mailModels(conn);
  let lost = 0;
  let unrouted = 0;
  for (const [chaosId, queuedAs] of accepted) {
    const key = `chaos:${queuedAs}`;
    const msg = await models.messages.findById(key).lean();
    const raw = msg ? (await readRaw(models, msg).catch(() => Buffer.alloc(0))).toString() : '';
    const row = `${key}:user${chaosId % USERS}@chaos.test`;
    const queued = (await models.queue.exists({ _id: row })) || (await models.held.exists({ _id: row })) || (await models.results.exists({ _id: row }));
    if (!msg || !raw.includes(`X-Chaos-Id ${chaosId}`)) lost++;
    else if (!queued) unrouted++;
  }
  const stored = await models.messages.find({}, { _id: 1, chunks: 1 }).lean();
  const seen = new Map<number, number>();
  let halfStored = 0; // cut by a kill before the 250: discarded by routing once surely stale
  for (const m of stored) {
    const raw = await readRaw(models, m).catch(() => null);
    if (!raw) {
      halfStored++;
      continue;
    }
    const id = Number(/X-Chaos-Id (\d+)/.exec(raw.toString())?.[1]);
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const duplicates = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0);
  await conn.close();
  await db.stop();
  rmSync(dataDir, { recursive: true, force: true });
  console.log(`messages: ${N} over ${C} connections, ${K} SIGKILLs`);
  console.log(`sent: ${N} unique messages (${attempts} SMTP transactions, retries included)`);
  console.log(`accepted (250): ${accepted.size}`);
  console.log(`lost (accepted but not stored): ${lost}`);
  console.log(`accepted but not queued: ${unrouted}`);
  console.log(`duplicates (stored twice, the 250 lost in a crash): ${duplicates}`);
  console.log(`half-stored, never answered 250 (discarded by routing later): ${halfStored}`);
  process.exit(lost === 0 && unrouted === 0 ? 0 : 1);
}

runBench(main);
