/**
 * Accepted mail survives the server being killed outright right after its 250s (RFC 5321): the
 * restarted server finds every message in the database, routed (spool replayed, journal recovered).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openConnection } from '../../server/db/connection';
import { startEmbeddedDatabase } from '../../server/db/embedded/ferretdb';
import { mailModels } from '../../server/mail/model';
import { readRaw } from '../../server/mail/store';
import { freePort, killServerOutright, processesMentioning, startServer, waitFor } from '../harness/server-process';
import { simpleMessage, smtpSession } from '../harness/smtp-peers';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function crashTenant() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-mail-crash-'));
  dirs.push(dataDir);
  const directoryFile = path.join(dataDir, 'directory.json');
  writeFileSync(
    directoryFile,
    JSON.stringify({
      tenant: { id: 'crash', name: 'Crash', domains: ['crash.test'] },
      users: [{ id: 'u1', displayName: 'One', mail: 'one@crash.test' }],
      groups: [],
    }),
  );
  return { dataDir, directoryFile };
}

/** Sends `count` messages over `connections` senders; returns the queued-as ids (every one must get 250). */
async function send(smtpPort: number, count: number, connections: number, first = 0): Promise<string[]> {
  const accepted: string[] = [];
  let next = first;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const s = await smtpSession(smtpPort);
      await s.command('EHLO sender.example');
      for (let n = next++; n < first + count; n = next++) {
        await s.command('MAIL FROM:<sender@sender.example>');
        await s.command('RCPT TO:<one@crash.test>');
        const reply = await s.data(simpleMessage({ from: 'sender@sender.example', to: 'one@crash.test', subject: `crash ${n}`, body: `X-Crash-Id ${n}` }));
        const id = /^250 .*queued as (\S+)/.exec(reply)?.[1];
        if (!id) throw new Error(`message ${n} refused: ${reply}`);
        accepted.push(id);
      }
      await s.quit();
    }),
  );
  return accepted;
}

/** Restarts the server (it replays and routes before it listens), stops it, and lists the accepted messages not stored and routed. */
async function missingAfterRestart(env: NodeJS.ProcessEnv, dataDir: string, accepted: string[]): Promise<string[]> {
  const restarted = await startServer(env);
  expect(await restarted.stop('SIGINT')).toBe(0);
  await waitFor(() => processesMentioning(dataDir).length === 0, 10_000, 'the embedded database to stop');
  const db = await startEmbeddedDatabase({ dataDir: path.join(dataDir, 'db') });
  const conn = await openConnection(db.uri);
  try {
    const models = mailModels(conn);
    const missing: string[] = [];
    for (const id of accepted) {
      const key = `crash:${id}`;
      const msg = await models.messages.findById(key).lean();
      const queued = await models.queue.exists({ _id: `${key}:one@crash.test` });
      const inbox = await models.mailbox.exists({ _id: `crash:u1:inbox:${id}` });
      if (!msg || !(await readRaw(models, msg)).toString().includes('X-Crash-Id') || !queued || !inbox) missing.push(id);
    }
    return missing;
  } finally {
    await conn.close();
    await db.stop();
  }
}

const envFor = (dataDir: string, directoryFile: string, smtpPort: number) => ({
  LIFEBOAT_DATA_DIR: dataDir,
  LIFEBOAT_DIRECTORY_FILE: directoryFile,
  SMTP_PORT: String(smtpPort),
  LOG_LEVEL: 'error',
  LIFEBOAT_SECRET: 'crash-secret-0123456789abcdef0123456789',
});

it('keeps every message answered 250 when the server is killed with SIGKILL right after', async () => {
  const { dataDir, directoryFile } = crashTenant();
  const env = envFor(dataDir, directoryFile, await freePort());
  const server = await startServer(env);
  const accepted = await send(Number(env.SMTP_PORT), 30, 3);
  killServerOutright(dataDir);
  await server.exited;
  expect(accepted).toHaveLength(30);
  expect(await missingAfterRestart(env, dataDir, accepted)).toEqual([]);
}, 120_000);

it('keeps accepting while the database stalls (the spool answers), and loses nothing when killed then', async () => {
  const { dataDir, directoryFile } = crashTenant();
  const env = envFor(dataDir, directoryFile, await freePort());
  const server = await startServer(env);
  const smtpPort = Number(env.SMTP_PORT);
  const accepted = await send(smtpPort, 1, 1); // recipient look-ups are cached from here on
  const [dbPid] = processesMentioning(path.join(dataDir, 'db'));
  expect(dbPid).toBeGreaterThan(0);
  process.kill(dbPid!, 'SIGSTOP');
  try {
    // The database answers nothing now: these 250s come from the spool alone.
    accepted.push(...(await send(smtpPort, 10, 2, 1)));
  } finally {
    killServerOutright(dataDir);
    process.kill(dbPid!, 'SIGKILL');
  }
  await server.exited;
  expect(accepted).toHaveLength(11);
  expect(await missingAfterRestart(env, dataDir, accepted)).toEqual([]);
}, 120_000);
