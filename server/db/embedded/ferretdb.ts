/**
 * Starts and stops the embedded database: the launcher binary as a child process bound to
 * 127.0.0.1 on a free port. The child exits when its stdin closes, so it cannot outlive this
 * process even when this process is killed without a chance to clean up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import readline from 'node:readline';
import { ensureEmbeddedBinary } from './build';

export interface EmbeddedDatabase {
  uri: string;
  pid: number;
  stop(): Promise<void>;
}

export class EmbeddedStartError extends Error {}

export interface EmbeddedOptions {
  dataDir: string;
  log?: (line: string) => void;
  startTimeoutMs?: number;
}

export async function startEmbeddedDatabase(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {});
  const binary = await ensureEmbeddedBinary(log);
  mkdirSync(options.dataDir, { recursive: true });

  const child = spawn(binary, ['-listen', '127.0.0.1:0', '-data', options.dataDir], {
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
      reject(new EmbeddedStartError(`the embedded database exited at start (${signal ?? `code ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });

  return { uri, pid: child.pid!, stop: () => stopChild(child) };
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
