/**
 * The server killed outright between the 250 and the verdict: the message is judged after the restart,
 * with exactly one verdict and one placement. Deterministic: the first server's rspamd is a stand-in
 * that takes the scan request and never answers, so the kill lands while the message is being judged
 * (long before the scan's timeout); the restarted server points at a real rspamd.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openConnection } from '../../server/db/connection';
import { startEmbeddedDatabase } from '../../server/db/embedded/ferretdb';
import { mailModels } from '../../server/mail/model';
import { startTestRspamd } from '../harness/engines';
import { GTUBE } from '../harness/protection-fixtures';
import { freePort, killServerOutright, processesMentioning, startServer, waitFor } from '../harness/server-process';
import { simpleMessage, smtpSession } from '../harness/smtp-peers';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const dirs: string[] = [];
let dns: DnsStandIn;
let rspamd: Awaited<ReturnType<typeof startTestRspamd>>;

beforeAll(async () => {
  dns = await startDnsStandIn({});
  rspamd = await startTestRspamd(dns.server);
}, 300_000);
afterAll(async () => {
  await rspamd?.close();
  await dns?.close();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A "scanner" that accepts the request and never answers (the judge waits on it). */
async function silentScanner() {
  const sockets = new Set<net.Socket>();
  let requests = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => requests++);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests: () => requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

it('judges a message stored but not judged when the server died: one verdict, one placement', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-protect-crash-'));
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
  const env = {
    LIFEBOAT_DATA_DIR: dataDir,
    LIFEBOAT_DIRECTORY_FILE: directoryFile,
    SMTP_PORT: String(await freePort()),
    LOG_LEVEL: 'error',
    LIFEBOAT_SECRET: 'crash-secret-0123456789abcdef0123456789',
    LIFEBOAT_DNS_SERVERS: dns.server,
  };
  const scanner = await silentScanner();
  let id: string;
  let killedAt: Date;
  try {
    const server = await startServer({ ...env, LIFEBOAT_RSPAMD_URL: scanner.url });
    const s = await smtpSession(Number(env.SMTP_PORT));
    await s.command('EHLO mail.sender.example');
    await s.command('MAIL FROM:<offers@sender.example>');
    await s.command('RCPT TO:<one@crash.test>');
    const reply = await s.data(simpleMessage({ from: 'offers@sender.example', to: 'one@crash.test', subject: 'Crash offer', body: GTUBE }));
    await s.quit();
    id = /^250 .*queued as (\S+)/.exec(reply)?.[1] ?? '';
    expect(id).not.toBe('');
    // The 250 is given and the message is with the scanner: kill the server before any verdict.
    await waitFor(() => scanner.requests() > 0, 30_000, 'the scan request');
    killedAt = new Date();
    killServerOutright(dataDir);
    await server.exited;
  } finally {
    await scanner.close();
  }

  // Restarted with a real rspamd: the message is judged (GTUBE: spam; the default policy tags it) and placed.
  const restarted = await startServer({ ...env, LIFEBOAT_RSPAMD_URL: rspamd.url });
  expect(await restarted.stop('SIGINT')).toBe(0);
  await waitFor(() => processesMentioning(dataDir).length === 0, 10_000, 'the embedded database to stop');

  const db = await startEmbeddedDatabase({ dataDir: path.join(dataDir, 'db') });
  const conn = await openConnection(db.uri);
  try {
    const verdicts = await conn.collection('protectionverdicts').find({ messageId: id }).toArray();
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]).toMatchObject({ verdict: 'spam' });
    expect((verdicts[0]!.judgedAt as Date).getTime()).toBeGreaterThan(killedAt.getTime());
    const models = mailModels(conn);
    const copies = await models.mailbox.find({ messageKey: `crash:${id}` }).lean();
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({ userId: 'u1', subject: '[SPAM] Crash offer', security: { verdict: 'spam', action: 'tag' } });
    const rows = [...(await models.queue.find({ recipient: 'one@crash.test' }).lean()), ...(await models.results.find({ recipient: 'one@crash.test' }).lean())];
    expect(rows.map((r) => r._id)).toEqual([`crash:${id}:one@crash.test`]);
    expect(await models.scanHolds.countDocuments({})).toBe(0);
  } finally {
    await conn.close();
    await db.stop();
  }
}, 300_000);
