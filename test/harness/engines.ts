/**
 * Real scanning engines for tests: rspamd through Lifeboat's own embedded launcher (resolver = the DNS
 * stand-in, hyperscan off so it starts in seconds), and clamd with a signature database the test writes
 * (the EICAR file's hash and a test file's hash), because signature downloads are unavailable here.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClamdClient, type ClamdClient } from '../../server/protection/clamd';
import { startEmbeddedRspamd, type EmbeddedRspamd } from '../../server/protection/rspamd-embedded';
import { EICAR } from './protection-fixtures';

/** A file whose hash the test signature database lists as `Lifeboat.Test.File`. */
export const TEST_MALWARE = Buffer.from('Lifeboat test payload: pretend this is malware.\n');
export const TEST_MALWARE_SIGNATURE = 'Lifeboat.Test.File';

export async function startTestRspamd(dnsServer: string): Promise<EmbeddedRspamd & { close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-rspamd-'));
  const rspamd = await startEmbeddedRspamd({ dir, dnsServers: [dnsServer], hyperscan: false });
  if (!rspamd) throw new Error('rspamd is not installed (Debian package rspamd)');
  return {
    ...rspamd,
    close: async () => {
      await rspamd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const hdb = (name: string, content: Buffer) => `${createHash('md5').update(content).digest('hex')}:${content.length}:${name}\n`;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface TestClamd {
  target: string;
  client: ClamdClient;
  close(): Promise<void>;
}

export async function startTestClamd(): Promise<TestClamd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-clamd-'));
  writeFileSync(path.join(dir, 'lifeboat-test.hdb'), hdb('Eicar-Test-Signature', Buffer.from(EICAR)) + hdb(TEST_MALWARE_SIGNATURE, TEST_MALWARE));
  const port = await freePort();
  const conf = path.join(dir, 'clamd.conf');
  writeFileSync(
    conf,
    [
      `DatabaseDirectory ${dir}`,
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      'Foreground yes',
      `PidFile ${path.join(dir, 'clamd.pid')}`,
      'ScanArchive yes',
      'ScanMail yes',
      'LogSyslog no',
      '',
    ].join('\n'),
  );
  const child = spawn('setpriv', ['--pdeathsig', 'TERM', 'clamd', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-2000)));
  const target = `127.0.0.1:${port}`;
  const client = createClamdClient(target);
  const started = Date.now();
  while (!(await client.ping(1000))) {
    if (child.exitCode !== null) throw new Error(`clamd exited: ${output}`);
    if (Date.now() - started > 120_000) throw new Error(`clamd did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    target,
    client,
    close: async () => {
      if (child.exitCode === null) await new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGTERM')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
