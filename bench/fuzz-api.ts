/**
 * npm run fuzz:api — Schemathesis against the live server over every operation of /api/openapi.json.
 * Starts server/main.ts on its embedded database (free ports, a fresh data directory), signs in the
 * seeded full administrator, gives a directory user a cloud password and signs them in, adds one event
 * and one monitor so lists are not empty, then runs Schemathesis with both credentials: 0 server errors
 * and every answer matching the contract (status, content type, schema), or the run fails.
 *
 * Schemathesis comes from the venv in .cache/schemathesis-venv (FUZZ_SCHEMATHESIS overrides the binary;
 * .ci/run creates the venv). FUZZ_MAX_EXAMPLES bounds the cases per operation (default 8), FUZZ_SEED
 * makes a run repeatable. FUZZ_KEEP=1 leaves the server running for a look (Ctrl-C stops it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const SCHEMATHESIS = process.env.FUZZ_SCHEMATHESIS ?? path.join(ROOT, '.cache', 'schemathesis-venv', 'bin', 'schemathesis');
const MAX_EXAMPLES = process.env.FUZZ_MAX_EXAMPLES ?? '8';
const ADMIN = { email: 'admin@contoso.test', password: 'fuzz admin password 123' };
const USER = { id: 'u-ada', email: 'ada@contoso.test', password: 'fuzz user password 123' };
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_schema_conformance'];
/**
 * Operations that would take the fuzzer's own credentials away mid-run (signing the admin out).
 * They are covered by the integration tests, not here.
 */
const EXCLUDED = ['/api/auth/logout'];

function waitForListening(server: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (d) => {
      out += d;
      const m = /Lifeboat listening on (http:\/\/localhost:\d+)/.exec(out);
      if (m) resolve(m[1]!.replace('localhost', '127.0.0.1'));
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out.slice(-4000)}`)));
  });
}

async function call(base: string, method: string, url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${url}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

async function seed(base: string) {
  const login = await call(base, 'POST', '/api/auth/login', ADMIN);
  const cookie = /lifeboat_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0];
  const admin = { cookie };
  await call(base, 'PUT', `/api/users/${USER.id}/cloud-password`, { password: USER.password }, admin);
  const { token } = (await (await call(base, 'POST', '/api/user-auth/login', { email: USER.email, password: USER.password })).json()) as { token: string };
  const groups = (await (await fetch(`${base}/api/directory/groups`, { headers: admin })).json()) as Array<{ id: string }>;
  const start = new Date(Date.now() + 3_600_000).toISOString();
  await call(base, 'POST', '/api/events', { description: 'Fuzz seed', affectedGroupId: groups[0]!.id, timeZone: 'UTC', start }, admin);
  await call(base, 'POST', '/api/monitors', { name: 'Fuzz seed', probeMailbox: 'ben@contoso.test' }, admin);
  return { cookie, token };
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-fuzz-'));
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: '0',
      SMTP_PORT: '0',
      LOG_LEVEL: process.env.FUZZ_LOG_LEVEL ?? 'error',
      LIFEBOAT_DATA_DIR: dataDir,
      LIFEBOAT_ADMIN_EMAIL: ADMIN.email,
      LIFEBOAT_ADMIN_PASSWORD: ADMIN.password,
      // Entra/Graph calls (a fuzzed connection) fail at once on a closed loopback port instead of
      // leaving the machine.
      LIFEBOAT_ENTRA_AUTHORITY: 'https://127.0.0.1:9',
      LIFEBOAT_GRAPH_URL: 'https://127.0.0.1:9',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  let status = 1;
  try {
    const base = await waitForListening(server);
    const { cookie, token } = await seed(base);
    if (process.env.FUZZ_KEEP) {
      console.log(`server at ${base}\n  admin: -H 'Cookie: ${cookie}'\n  user:  -H 'Authorization: Bearer ${token}'`);
      await exited;
      return;
    }
    const args = [
      'run',
      `${base}/api/openapi.json`,
      '--url',
      base,
      '--checks',
      CHECKS.join(','),
      '--max-examples',
      MAX_EXAMPLES,
      '--workers',
      '2',
      '--request-timeout',
      '20',
      '--suppress-health-check',
      'all',
      '-H',
      `Cookie: ${cookie}`,
      '-H',
      `Authorization: Bearer ${token}`,
      ...EXCLUDED.flatMap((p) => ['--exclude-path', p]),
      ...(process.env.FUZZ_SEED ? ['--seed', process.env.FUZZ_SEED] : []),
      ...process.argv.slice(2),
    ];
    const fuzz = spawn(SCHEMATHESIS, args, { stdio: 'inherit', env: { ...process.env, SCHEMATHESIS_HOOKS: '' } });
    status = await new Promise<number>((resolve, reject) => {
      fuzz.once('exit', (code) => resolve(code ?? 1));
      fuzz.once('error', reject);
    });
  } finally {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(status);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
