/**
 * npm run fuzz:api — Schemathesis against the live server over every operation of /api/openapi.json.
 * Starts server/main.ts on its embedded database (free ports, a fresh data directory), signs in the
 * seeded full administrator, gives a directory user a cloud password and signs them in, adds events
 * and monitors and a message so lists are not empty, then runs Schemathesis with both credentials over every
 * operation, and once more over the directory's with the tenant connected to an Entra ID that cannot be
 * reached: 0 server errors and every answer matching the contract (status, content type, schema), or the
 * run fails.
 *
 * Schemathesis comes from the venv in .cache/schemathesis-venv (FUZZ_SCHEMATHESIS overrides the binary;
 * .ci/run creates the venv). FUZZ_MAX_EXAMPLES bounds the cases per operation (default 8), FUZZ_SEED
 * makes a run repeatable. FUZZ_KEEP=1 leaves the server running for a look (Ctrl-C stops it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStandIns, StandInWorld } from '../test/stand-ins/entra';
import { ensureTestCertificate, TEST_CERT_FILE } from '../test/stand-ins/tls';
import { runBench } from './cli';

const ROOT = path.resolve(__dirname, '..');
// The venv's Python running the CLI module (not the venv's `schemathesis` script, whose first line
// names the venv's original path and breaks when the checkout moves).
const [SCHEMATHESIS, ...SCHEMATHESIS_ARGS] = process.env.FUZZ_SCHEMATHESIS
  ? [process.env.FUZZ_SCHEMATHESIS]
  : [path.join(ROOT, '.cache', 'schemathesis-venv', 'bin', 'python3'), '-m', 'schemathesis.cli'];
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

const INBOUND_SECRET = 'fuzz-inbound-secret-0123456789';

/** The credentials and real ids the run uses (operations are fuzzed mostly on things that exist). */
async function seed(base: string) {
  const login = await call(base, 'POST', '/api/auth/login', ADMIN);
  const cookie = /lifeboat_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0];
  const admin = { cookie };
  const json = async <T>(res: Response) => (await res.json()) as T;
  await call(base, 'PUT', `/api/users/${USER.id}/cloud-password`, { password: USER.password }, admin);
  const { token } = await json<{ token: string }>(await call(base, 'POST', '/api/user-auth/login', { email: USER.email, password: USER.password }));
  const user = { authorization: `Bearer ${token}` };
  const group = 'g-all-staff';
  const soon = new Date(Date.now() + 3_600_000).toISOString();
  const justNow = new Date(Date.now() - 60_000).toISOString();
  const event = (start: string) => call(base, 'POST', '/api/events', { description: 'Fuzz seed', affectedGroupId: group, timeZone: 'UTC', start }, admin);
  const current = await json<{ id: string }>(await event(justNow));
  const pending = await json<{ id: string }>(await event(soon));
  const monitor = () => call(base, 'POST', '/api/monitors', { name: 'Fuzz seed', probeMailbox: 'ben@contoso.test' }, admin);
  const monitors = [await json<{ id: string }>(await monitor()), await json<{ id: string }>(await monitor())];
  await call(base, 'PUT', '/api/notify/settings', { sms: { provider: 'webhook', url: 'https://127.0.0.1:9/sms', inboundSecret: INBOUND_SECRET } }, admin);
  const attachment = { filename: 'note.txt', contentType: 'text/plain', contentBase64: Buffer.from('fuzz').toString('base64') };
  const sent = await json<{ id: string }>(
    await call(base, 'POST', '/api/me/messages', { to: ['ben@contoso.test'], subject: 'Fuzz seed', html: '<p>seed</p>', attachments: [attachment] }, user),
  );
  return { cookie, token, ids: { current: current.id, pending: pending.id, monitor: monitors[0]!.id, spareMonitor: monitors[1]!.id, message: sent.id, group } };
}

type Seeded = Awaited<ReturnType<typeof seed>>;

/**
 * Schemathesis' configuration: real ids for path parameters (most of the time: a dictionary with a
 * probability, so unknown ids are still tried), the gateway's secret on the SMS-reply operation.
 */
function config({ ids }: Seeded): string {
  const toml = (v: unknown) => JSON.stringify(v);
  const dictionaries = {
    events: [ids.current, ids.pending],
    monitors: [ids.monitor],
    spareMonitors: [ids.spareMonitor],
    messages: [ids.message],
    groups: [ids.group],
    users: ['u-ben', 'u-chloe'],
    addresses: ['ada@contoso.test', 'allstaff@contoso.test', 'someone@example.org'],
    tenants: ['contoso'],
    indexes: [0, 1],
    zones: ['UTC', 'Europe/Berlin', 'America/New_York'],
    starts: [new Date(Date.now() + 7_200_000).toISOString(), new Date(Date.now() - 120_000).toISOString()],
    mailboxes: ['ben@contoso.test'],
    recipients: ['ben@contoso.test', 'chloe@contoso.test', 'someone@example.org'],
  };
  const bind = (parameter: string, dictionary: keyof typeof dictionaries) => `${toml(parameter)} = { dictionary = ${toml(dictionary)}, probability = 0.8 }`;
  const eventBody = [bind('body.affectedGroupId', 'groups'), bind('body.timeZone', 'zones'), bind('body.start', 'starts')];
  const monitorBody = [bind('body.probeMailbox', 'mailboxes'), bind('body.timeZone', 'zones')];
  const operation = (match: string, parameters: string[], extra = '') => `[[operations]]\n${match}\nparameters = { ${parameters.join(', ')} }\n${extra}`;
  // Inferred links hand the fuzzer its own ids (GET /api/me → the user, the admin list → the admin):
  // these would demote or sign out the run's own credentials; the integration tests cover them.
  const disabled = ['PATCH /api/admins/{id}', 'DELETE /api/admins/{id}', 'PUT /api/admins/{id}/password', 'POST /api/users/{id}/sign-out-everywhere'];
  return [
    ...disabled.map((name) => `[[operations]]\ninclude-name = ${toml(name)}\nenabled = false\n`),
    ...Object.entries(dictionaries).map(([name, values]) => `[dictionaries.${name}]\nvalues = ${toml(values)}\n`),
    operation('include-path-regex = "^/api/events/\\\\{id\\\\}"', [bind('path.id', 'events'), ...eventBody]),
    operation('include-path = "/api/events"\ninclude-method = "POST"', eventBody),
    operation('include-path = "/api/monitors"\ninclude-method = "POST"', monitorBody),
    operation('include-path = "/api/me/messages"', [bind('body.to[*]', 'recipients')]),
    operation('include-path-regex = "^/api/monitors/\\\\{id\\\\}"\nexclude-method = "DELETE"', [bind('path.id', 'monitors'), ...monitorBody]),
    operation('include-path = "/api/monitors/{id}"\ninclude-method = "DELETE"', [bind('path.id', 'spareMonitors')]),
    operation('include-path-regex = "^/api/me/mailbox/\\\\{id\\\\}"', [bind('path.id', 'messages'), bind('path.index', 'indexes')]),
    operation('include-path-regex = "^/api/directory/(groups|expansions)/"', [bind('path.id', 'groups'), bind('path.groupId', 'groups')]),
    operation('include-path-regex = "^/api/(users|directory/users)/\\\\{id\\\\}"', [bind('path.id', 'users')]),
    operation('include-path = "/api/notify/consents/{userId}"', [bind('path.userId', 'users')]),
    operation('include-path = "/api/directory/addresses/{address}"', [bind('path.address', 'addresses')]),
    operation(
      'include-path = "/api/notify/inbound/{tenantId}/sms"',
      [bind('path.tenantId', 'tenants')],
      `headers = { "X-Lifeboat-Inbound-Secret" = ${toml(INBOUND_SECRET)} }\n`,
    ),
  ].join('\n');
}

/** The Entra tenant the second pass connects (proven against the stand-in, which then stops). */
const ENTRA = { tenantId: '0b1e5c5e-0000-4000-8000-00000000e17a', clientId: '0b1e5c5e-0000-4000-8000-00000000f022', clientSecret: 'fuzz-entra-secret' };

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-fuzz-'));
  // Entra's token endpoint and Graph (the local HTTPS stand-ins): a connection is proven with a token
  // before it is stored, so the second pass connects while they run, then stops them.
  await ensureTestCertificate();
  const world = new StandInWorld();
  world.addTenant(ENTRA.tenantId).registerApp({ clientId: ENTRA.clientId, clientSecret: ENTRA.clientSecret, grantedPermissions: ['Directory.Read.All'] });
  const standIns = await startStandIns(world);
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
      // Entra/Graph calls (a fuzzed connection) go to the local stand-ins, later to their closed
      // ports, never off the machine.
      LIFEBOAT_ENTRA_AUTHORITY: standIns.loginUrl,
      LIFEBOAT_GRAPH_URL: standIns.graphUrl,
      NODE_EXTRA_CA_CERTS: TEST_CERT_FILE,
      // Thousands of requests from one session and one address: 429s would pass (documented on every
      // operation) but hide the rest of the run's coverage.
      LIFEBOAT_API_RATE_LIMIT: '1000000',
      // The seeded SMS gateway is a closed loopback port (nothing leaves the machine).
      LIFEBOAT_ALLOWED_PRIVATE_TARGETS: 'loopback',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  let status: number;
  try {
    const base = await waitForListening(server);
    const seeded = await seed(base);
    const { cookie, token } = seeded;
    const configFile = path.join(dataDir, 'schemathesis.toml');
    writeFileSync(configFile, config(seeded));
    if (process.env.FUZZ_KEEP) {
      console.log(`server at ${base}\n  admin: -H 'Cookie: ${cookie}'\n  user:  -H 'Authorization: Bearer ${token}'`);
      await exited;
      return;
    }
    const schemathesis = (checks: string[], extra: string[]) => {
      const args = [
        '--config-file',
        configFile,
        'run',
        `${base}/api/openapi.json`,
        '--url',
        base,
        '--checks',
        checks.join(','),
        '--max-examples',
        MAX_EXAMPLES,
        // One worker: the server is the bottleneck anyway, and Schemathesis' coverage phase raised an
        // internal KeyError ("Inconsistent results") once with two on a loaded machine.
        '--workers',
        '1',
        '--request-timeout',
        '20',
        '--suppress-health-check',
        'all',
        '-H',
        `Cookie: ${cookie}`,
        '-H',
        `Authorization: Bearer ${token}`,
        // What a browser sends with the admin page's cookie-authenticated writes.
        '-H',
        `Origin: ${base}`,
        ...EXCLUDED.flatMap((p) => ['--exclude-path', p]),
        ...(process.env.FUZZ_SEED ? ['--seed', process.env.FUZZ_SEED] : []),
        ...extra,
        ...process.argv.slice(2),
      ];
      // In the data directory: Schemathesis' own cache goes away with it.
      const fuzz = spawn(SCHEMATHESIS, [...SCHEMATHESIS_ARGS, ...args], { cwd: dataDir, stdio: 'inherit', env: { ...process.env, SCHEMATHESIS_HOOKS: '' } });
      return new Promise<number>((resolve, reject) => {
        fuzz.once('exit', (code) => resolve(code ?? 1));
        fuzz.once('error', reject);
      });
    };
    console.log('\n== every operation, the tenant reading its directory from the file\n');
    const first = await schemathesis(CHECKS, []);
    // The same tenant connected to Entra ID while Graph cannot be reached (a closed port): every
    // directory look-up must still answer within the contract (a 502 problem, or the last sync's data).
    await call(
      base,
      'PUT',
      '/api/directory/connection',
      { entraTenantId: ENTRA.tenantId, clientId: ENTRA.clientId, clientSecret: ENTRA.clientSecret },
      { cookie },
    );
    await standIns.close();
    console.log('\n== the directory operations, the tenant connected to an unreachable Entra ID\n');
    // Graph failing is answered 502 by design (documented on each of these operations), so this pass
    // leaves out not_a_server_error: a 500 is still off the contract (no operation documents one).
    const second = await schemathesis(
      CHECKS.filter((c) => c !== 'not_a_server_error'),
      ['--include-path-regex', '^/api/directory/', '--exclude-path', '/api/directory/connection'],
    );
    status = first || second;
  } finally {
    await standIns.close().catch(() => {});
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(status);
}

runBench(main);
