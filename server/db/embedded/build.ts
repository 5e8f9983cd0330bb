/**
 * Builds the embedded database (FerretDB v1.24.2 on SQLite, see launcher/) into a git-ignored
 * cache when it is missing. Run by `npm install` (postinstall, with --if-possible so a machine
 * without Go can still install and use MONGODB_URI), by `npm run build:db`, by the server's first
 * start and by the test harness.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { embeddedCacheDir, toolchainEnv } from '../../config';

export const LAUNCHER_DIR = path.join(__dirname, 'launcher');
// LIFEBOAT_CACHE_DIR (server/config.ts): `npm install`, `npm run build:db` and the test harness use this file
// without a server configuration; the server only reads the same cache.
const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');
const CACHE_DIR = embeddedCacheDir();

/** The binary's name carries a hash of the launcher sources, so a changed pin rebuilds it. */
export function embeddedBinaryPath(): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(path.join(LAUNCHER_DIR, file)));
  return path.join(CACHE_DIR, `lifeboat-ferretdb-${hash.digest('hex').slice(0, 12)}`);
}

export class EmbeddedBuildError extends Error {}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    // The Go toolchain needs the caller's environment (PATH, HOME, GOPATH, proxies).
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: toolchainEnv({ CGO_ENABLED: '0' }) });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ code: null, output: String(err.message) }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Returns the binary's path, building it first when it is missing. */
export async function ensureEmbeddedBinary(log: (line: string) => void = () => {}): Promise<string> {
  const target = embeddedBinaryPath();
  if (existsSync(target)) return target;
  mkdirSync(CACHE_DIR, { recursive: true });
  log('Building the embedded database (FerretDB v1.24.2, SQLite) once; this takes about a minute...');
  // Build next to the target and rename, so a concurrent or interrupted build never leaves half a binary.
  const partial = `${target}.${process.pid}.partial`;
  const result = await run('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', partial, '.'], LAUNCHER_DIR);
  if (result.code !== 0) {
    const reason = result.code === null ? `Go is not available (${result.output.trim()})` : result.output.trim().split('\n').slice(-5).join('\n');
    throw new EmbeddedBuildError(`could not build the embedded database: ${reason}`);
  }
  renameSync(partial, target);
  log(`Embedded database built: ${path.relative(PROJECT_ROOT, target)}`);
  return target;
}

if (require.main === module) {
  const optional = process.argv.includes('--if-possible');
  ensureEmbeddedBinary((line) => console.log(line))
    .then((bin) => console.log(`Embedded database ready: ${path.relative(PROJECT_ROOT, bin)}`))
    .catch((err: Error) => {
      console.error(`${optional ? 'warning: ' : ''}${err.message}`);
      if (optional) console.error('Lifeboat can still run against MONGODB_URI; `npm run build:db` retries the build.');
      process.exit(optional ? 0 : 1);
    });
}
