/** Runs the real server entry (server/main.ts) as a child process, as `npm start` would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function spawnServer(env: NodeJS.ProcessEnv) {
  // One process, as `npm start` runs it: signals reach the server itself. (The tsx CLI wrapper relays
  // them and SIGKILLs the server when it has not acknowledged one within 60 ms, as under load.)
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server', 'main.ts')], {
    cwd: ROOT,
    // No embedded rspamd per server process (protection tests start their own); a test can set LIFEBOAT_RSPAMD_URL.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: '0',
      SMTP_PORT: '0',
      LOG_LEVEL: 'warn',
      LIFEBOAT_RSPAMD_URL: 'off',
      LIFEBOAT_ALLOWED_PRIVATE_TARGETS: 'loopback',
      // The tests' monitor addresses live in this domain (the server owns it for monitoring, as an operator would set).
      LIFEBOAT_MONITOR_DOMAINS: 'monitor.lifeboat.test',
      // The run's DNS stand-in (global-setup): sender authentication answers at once, never on the machine's resolver.
      ...(process.env.LIFEBOAT_TEST_DNS_SERVERS ? { LIFEBOAT_DNS_SERVERS: process.env.LIFEBOAT_TEST_DNS_SERVERS } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Runs the server until it exits by itself (startup failures). */
export async function runUntilExit(env: NodeJS.ProcessEnv, timeoutMs = 60_000) {
  const run = spawnServer(env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

export async function startServer(env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ServerProcess> {
  const run = spawnServer(env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${run.stdout()}\n${run.stderr()}`)), timeoutMs);
    const check = () => {
      const match = /Lifeboat listening on (https?:\/\/localhost:\d+)/.exec(run.stdout());
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    run.child.stdout!.on('data', check);
    run.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${run.stdout()}\n${run.stderr()}`));
    });
  });
  return {
    ...run,
    url,
    async stop(signal: NodeJS.Signals = 'SIGINT') {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill(signal);
      return run.exited;
    },
  };
}

/** Pids of live processes whose command line mentions the text (e.g. a data directory). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmdline.includes(text) && state !== 'Z') pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

export async function waitFor(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** PATH without any directory that holds a `go` binary: the machine as if Go were not installed. */
export function pathWithoutGo(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !existsSync(path.join(dir, 'go')))
    .join(path.delimiter);
}

/** SIGKILL for every server process started with this data directory: a crash with no clean-up. */
export function killServerOutright(dataDir: string): void {
  for (const pid of processesMentioning('server/main.ts')) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(dataDir)) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A TCP port free on 127.0.0.1 right now (for a child process that must be told its port). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A JSON call to a running server as the administrator whose session cookie is given; a non-2xx answer throws with its body. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as res.json(): the tests read fields of whichever answer they asked for
export async function callAsAdmin(baseUrl: string, cookie: string, method: string, url: string, body?: unknown): Promise<any> {
  const res = await fetch(`${baseUrl}${url}`, {
    method,
    headers: { cookie, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}
