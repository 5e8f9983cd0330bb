/**
 * The web pages (task pane, admin page, continuity inbox) as a fresh clone needs them: `npm ci` builds
 * them (postinstall, scripts/build-web.ts) and `npm start` builds them when they are missing (an
 * install with --ignore-scripts), so the quick start never serves "run npm run build" instead of a
 * page. Owns only the decision and the webpack run; serving is server/http/static-build.ts.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const BUILD_DIR = path.join(REPO_ROOT, 'server', 'public', 'build');
/** Every page the server serves from the build: one missing means the build is missing. */
export const WEB_PAGES = ['taskpane.html', 'admin.html', 'inbox.html'];
const STAMP = '.source-hash';
const SOURCES = ['addin', 'webpack.config.js', 'package-lock.json'];

export class WebBuildError extends Error {}

export function missingPages(buildDir = BUILD_DIR): string[] {
  return WEB_PAGES.filter((p) => !existsSync(path.join(buildDir, p)));
}

function files(entry: string): string[] {
  if (!existsSync(entry)) return [];
  if (!statSync(entry).isDirectory()) return [entry];
  return readdirSync(entry)
    .sort()
    .flatMap((f) => files(path.join(entry, f)));
}

/** A hash of the sources the bundles are built from: a build made from other sources is stale. */
export function sourceHash(root = REPO_ROOT): string {
  const hash = createHash('sha256');
  for (const file of SOURCES.flatMap((s) => files(path.join(root, s)))) {
    hash.update(path.relative(root, file));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}

export function builtFrom(buildDir = BUILD_DIR): string | null {
  try {
    return readFileSync(path.join(buildDir, STAMP), 'utf8').trim();
  } catch {
    return null;
  }
}

/** True when webpack is installed (a production install without dev dependencies cannot build). */
export function canBuild(root = REPO_ROOT): boolean {
  return existsSync(path.join(root, 'node_modules', 'webpack-cli', 'bin', 'cli.js'));
}

/** Runs webpack (production) with a progress line before and after; rejects with the tail of its output. */
export async function buildWeb(log: (line: string) => void, root = REPO_ROOT): Promise<void> {
  if (!canBuild(root)) {
    throw new WebBuildError('webpack is not installed (install with dev dependencies: `npm ci`), so the web pages cannot be built');
  }
  const started = Date.now();
  log('Building the web pages (continuity inbox, admin page, Outlook task pane) once; this takes a minute or two…');
  const hash = sourceHash(root);
  const output = await new Promise<string>((resolve, reject) => {
    let out = '';
    const child = spawn(process.execPath, [path.join(root, 'node_modules', 'webpack-cli', 'bin', 'cli.js'), '--mode', 'production'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new WebBuildError(`webpack failed (exit ${code}):\n${out.slice(-2000)}`))));
  });
  if (/ERROR in /.test(output)) throw new WebBuildError(`webpack reported errors:\n${output.slice(-2000)}`);
  writeFileSync(path.join(BUILD_DIR, STAMP), `${hash}\n`);
  log(`Web pages built in ${Math.round((Date.now() - started) / 1000)} s.`);
}
