/**
 * The README's quick start on a fresh clone (issue 16 item 7): `git clone` of this repository, its
 * dependencies, then `npm start` and nothing else: `/`, `/admin` and `/addin/taskpane.html` answer
 * with HTML (the pages are built at first start, with a progress line), the first administrator is
 * created after the ports are bound, and Ctrl-C (SIGINT to the whole process group, as a terminal
 * sends it) stops everything without a stack trace.
 *
 * For time, the clone gets this checkout's node_modules (a symlink) instead of running `npm ci`, and
 * the embedded database binary this checkout already built (LIFEBOAT_CACHE_DIR); an install would
 * build the pages in postinstall (scripts/build-web.ts), which is the same build this test runs at start.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processesMentioning, waitFor } from '../harness/server-process';

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(ROOT, '.cache', 'embedded-db');

describe('quick start on a fresh clone', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-clone-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let clone = '';
  test('npm start serves every page, creates the first admin after binding, and stops on Ctrl-C without a stack trace', async () => {
    clone = path.join(dir, 'lifeboat');
    execFileSync('git', ['clone', '--quiet', ROOT, clone]);
    expect(existsSync(path.join(clone, 'server', 'public', 'build'))).toBe(false);
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');

    const child = spawn('npm', ['start'], {
      cwd: clone,
      detached: true, // its own process group, so the SIGINT below reaches npm and the server as a terminal's would
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', SMTP_PORT: '0', LOG_LEVEL: 'warn', LIFEBOAT_CACHE_DIR: CACHE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening" line:\n${stdout}\n${stderr}`)), 600_000);
        child.stdout!.on('data', () => {
          const m = /Lifeboat listening on (http:\/\/localhost:\d+)/.exec(stdout);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        void exited.then((code) => reject(new Error(`npm start exited with ${code}:\n${stdout}\n${stderr}`)));
      });
      expect(stdout).toMatch(/Building the web pages/);
      expect(stdout).toMatch(/Web pages built in \d+ s/);
      for (const page of ['/', '/admin', '/addin/taskpane.html']) {
        const res = await fetch(`${url}${page}`, { headers: { accept: 'text/html' } });
        expect([page, res.status]).toEqual([page, 200]);
        expect(res.headers.get('content-type')).toMatch(/text\/html/);
        expect(await res.text()).toMatch(/<div id="?root"?><\/div>/); // the production build drops optional quotes
      }
      // The one-time password is printed after the ports are bound (a failed start must not use it up).
      await new Promise((r) => setTimeout(r, 500));
      const password = stdout.indexOf('password:');
      expect(password).toBeGreaterThan(stdout.indexOf('Lifeboat SMTP receiver on port'));
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    // npm passes the signal on and ends by it, as a shell expects after Ctrl-C; the server itself exits 0.
    expect(['0', 'SIGINT']).toContain(await exited);
    await waitFor(() => processesMentioning(clone).length === 0, 20_000, 'the server and its database to stop');
    expect(stdout + stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(stderr).not.toMatch(/npm error/i);
  }, 700_000);
});
