/**
 * Starts and stops the embedded database: the launcher binary as a child process bound to
 * 127.0.0.1 on a free port. The child exits when its stdin closes, so it cannot outlive this
 * process even when this process is killed without a chance to clean up. With `restart`, a database
 * that dies on its own is started again on the same port (the driver reconnects by itself), with a
 * growing pause; one that keeps dying is given up on, so a supervisor can restart the whole server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import readline from 'node:readline';
import { ensureEmbeddedBinary } from './build';

export interface EmbeddedDatabase {
  uri: string;
  /** The running database process (a new one after a restart). */
  readonly pid: number;
  stop(): Promise<void>;
}

export interface EmbeddedRestart {
  /** Gives up after this many unexpected exits within `windowMs` (default 5 in 10 minutes). */
  maxRestarts?: number;
  windowMs?: number;
  /** First pause before a restart, doubled each time up to 30 s (default 1 s). */
  firstDelayMs?: number;
  /** Where the restarts are told (default: the start's `log`). */
  log?: (line: string) => void;
  /** The database keeps dying, or cannot be started again: the server should stop (and be restarted). */
  onGiveUp(reason: string): void;
}

export class EmbeddedStartError extends Error {}

export interface EmbeddedOptions {
  dataDir: string;
  log?: (line: string) => void;
  startTimeoutMs?: number;
  /** Start it again on the same port when it exits on its own (the server); off: the caller sees it gone (tests). */
  restart?: EmbeddedRestart;
}

export async function startEmbeddedDatabase(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {});
  const binary = await ensureEmbeddedBinary(log);
  mkdirSync(options.dataDir, { recursive: true });

  let current = await launch(binary, options, '127.0.0.1:0');
  const port = new URL(current.uri).port;
  let stopping = false;
  const exits: number[] = [];

  const watch = (child: ChildProcess) => {
    child.once('exit', (code, signal) => {
      if (stopping || !options.restart) return;
      void restartAfter(`${signal ?? `code ${code}`}: ${lastLines(current.stderr())}`);
    });
  };
  async function restartAfter(reason: string): Promise<void> {
    const restart = options.restart!;
    const now = Date.now();
    exits.push(now);
    while (exits.length && exits[0]! < now - (restart.windowMs ?? 10 * 60_000)) exits.shift();
    if (exits.length > (restart.maxRestarts ?? 5)) return restart.onGiveUp(`the embedded database stopped ${exits.length} times in a row (${reason})`);
    const delay = Math.min(30_000, (restart.firstDelayMs ?? 1000) * 2 ** (exits.length - 1));
    const tell = restart.log ?? log;
    tell(`The embedded database stopped unexpectedly (${reason}); starting it again on port ${port} in ${delay} ms`);
    await new Promise((r) => setTimeout(r, delay));
    if (stopping) return;
    try {
      current = await launch(binary, options, `127.0.0.1:${port}`);
      tell(`The embedded database is running again on port ${port}`);
      watch(current.child);
    } catch (err) {
      await restartAfter((err as Error).message);
    }
  }
  watch(current.child);

  return {
    uri: current.uri,
    get pid() {
      return current.child.pid!;
    },
    stop: () => {
      stopping = true;
      return stopChild(current.child);
    },
  };
}

const lastLines = (text: string) => text.trim().split('\n').slice(-3).join(' | ');

/** One database process listening on `listen`; resolves once it prints its address. */
async function launch(binary: string, options: EmbeddedOptions, listen: string): Promise<{ child: ChildProcess; uri: string; stderr: () => string }> {
  const child = spawn(binary, ['-listen', listen, '-data', options.dataDir], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });

  const uri = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new EmbeddedStartError(`the embedded database did not start within ${options.startTimeoutMs ?? 30000} ms`));
    }, options.startTimeoutMs ?? 30000);
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /^LISTENING (mongodb:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new EmbeddedStartError(`the embedded database could not be started: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new EmbeddedStartError(`the embedded database exited at start (${signal ?? `code ${code}`}): ${lastLines(stderr)}`));
    });
  });
  return { child, uri, stderr: () => stderr };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}
