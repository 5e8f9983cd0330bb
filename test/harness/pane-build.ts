/**
 * The built task pane, admin page and continuity inbox for browser tests. `npm run build` (CI) makes it; when it is missing or older
 * than the add-in's sources, this builds it (webpack, development mode) so tests never run a stale pane.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
export const BUILD_DIR = path.join(ROOT, 'server', 'public', 'build');
const SOURCES = [path.join(ROOT, 'addin'), path.join(ROOT, 'webpack.config.js')];

function newest(file: string): number {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(file).map((f) => newest(path.join(file, f))));
}

export function ensurePaneBuilt(): string {
  const page = path.join(BUILD_DIR, 'taskpane.html');
  // The admin page (addin/admin/) is built by the same webpack run: a build without it is stale too.
  const stale =
    !existsSync(page) ||
    !existsSync(path.join(BUILD_DIR, 'admin.html')) ||
    !existsSync(path.join(BUILD_DIR, 'inbox.html')) ||
    Math.max(...SOURCES.map(newest)) > statSync(page).mtimeMs;
  if (stale) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'webpack-cli', 'bin', 'cli.js'), '--mode', 'development'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return BUILD_DIR;
}
