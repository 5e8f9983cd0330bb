/**
 * npm run bench:directory — a generated Entra tenant (100,000 users, 5,000 groups nested up to 5
 * deep) served by the local Graph stand-in; the real server (server/main.ts, its own embedded
 * database) syncs it. Prints the full sync time, the incremental sync time after 100 membership
 * changes, and the peak memory (VmHWM) of the server process.
 *
 * BENCH_USERS / BENCH_GROUPS make the tenant smaller for a quick look.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateTenant, prng, startStandIns, StandInWorld } from '../test/stand-ins/entra';
import { assertCertificateTrusted, TEST_CERT_FILE } from '../test/stand-ins/tls';

const ROOT = path.resolve(__dirname, '..');
const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const GROUPS = Number(process.env.BENCH_GROUPS ?? 5_000);
const CLIENT_ID = '0b1e5c5e-0000-4000-8000-00000000be7c';
const SECRET = 'bench-client-secret-value';
const ADMIN = { email: 'admin@contoso.test', password: 'bench password 123' };

const peakMemory = (pid: number) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

async function main() {
  assertCertificateTrusted();
  const t = Date.now();
  const world = new StandInWorld();
  const tenant = world.addTenant();
  generateTenant(tenant, { users: USERS, groups: GROUPS, depth: 5 });
  tenant.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All'] });
  const standIns = await startStandIns(world);
  console.log(`generated ${USERS} users, ${GROUPS} groups (nested 5 deep) in ${Date.now() - t} ms`);

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bench-'));
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: '0',
      // info: the server's "directory sync succeeded" line carries where the time went.
      LOG_LEVEL: 'info',
      LIFEBOAT_DATA_DIR: dataDir,
      LIFEBOAT_RSPAMD_URL: 'off', // protection is not on the mail path yet: no embedded rspamd loading beside the bench
      LIFEBOAT_ADMIN_EMAIL: ADMIN.email,
      LIFEBOAT_ADMIN_PASSWORD: ADMIN.password,
      LIFEBOAT_ENTRA_AUTHORITY: standIns.loginUrl,
      LIFEBOAT_GRAPH_URL: standIns.graphUrl,
      NODE_EXTRA_CA_CERTS: TEST_CERT_FILE,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  try {
    const syncLines: Array<{ mode: string; expanded: number; ms: Record<string, number> }> = [];
    let pending = '';
    server.stdout!.on('data', (d) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.includes('directory sync succeeded')) syncLines.push(JSON.parse(line));
    });
    const base = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d) => {
        out += d;
        const m = /Lifeboat listening on (http:\/\/localhost:\d+)/.exec(out);
        if (m) resolve(m[1]);
      });
      server.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
    });
    let cookie = '';
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: { 'content-type': 'application/json', cookie },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      cookie = res.headers.get('set-cookie')?.split(';')[0] ?? cookie;
      if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return res.status === 204 ? null : res.json();
    };
    await call('POST', '/api/auth/login', ADMIN);
    await call('PUT', '/api/directory/connection', { entraTenantId: tenant.id, clientId: CLIENT_ID, clientSecret: SECRET });

    // The server logs its line once the synced directory is stored too (after the sync's finishedAt):
    // waiting for it also keeps that work from overlapping the next measurement.
    const phases = async () => {
      for (let i = 0; i < 6000 && !syncLines.length; i++) await new Promise((r) => setTimeout(r, 50));
      const line = syncLines.shift();
      return line
        ? `  phases (ms): ${Object.entries(line.ms)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}; expansions written: ${line.expanded}`
        : '  (no phase line from the server)';
    };
    const syncOnce = async (full: boolean) => {
      await call('POST', '/api/directory/sync', { full });
      for (;;) {
        await new Promise((r) => setTimeout(r, 200));
        const s = await call('GET', '/api/directory/sync');
        if (s.state === 'running') continue;
        if (s.state !== 'succeeded') throw new Error(`sync ${s.state}: ${s.error}`);
        return s as { startedAt: string; finishedAt: string; pages: number; users: number; groups: number; mode: string };
      }
    };

    const fullSync = await syncOnce(true);
    const fullMs = Date.parse(fullSync.finishedAt) - Date.parse(fullSync.startedAt);
    console.log(`full sync: ${(fullMs / 1000).toFixed(1)} s (${fullSync.pages} pages, ${fullSync.users} users, ${fullSync.groups} groups)`);
    console.log(await phases());

    // 100 membership changes: 50 additions, 50 removals, in random groups.
    const random = prng(7);
    const groupIds = [...tenant.groups.keys()];
    const userIds = [...tenant.users.keys()];
    let changes = 0;
    while (changes < 100) {
      const group = tenant.groups.get(groupIds[Math.floor(random() * groupIds.length)])!;
      if (changes % 2 === 0) {
        tenant.addMember(group.id, userIds[Math.floor(random() * userIds.length)]);
        changes++;
      } else {
        const member = [...group.members].find((m) => tenant.users.has(m));
        if (member) {
          tenant.removeMember(group.id, member);
          changes++;
        }
      }
    }
    const incremental = await syncOnce(false);
    const incMs = Date.parse(incremental.finishedAt) - Date.parse(incremental.startedAt);
    console.log(`incremental sync after 100 membership changes: ${(incMs / 1000).toFixed(1)} s (${incremental.mode}, ${incremental.pages} pages)`);
    console.log(await phases());
    console.log(`peak memory of the server process (VmHWM): ${mb(peakMemory(server.pid!))}`);
    console.log(`machine: ${os.cpus().length} cores, Node ${process.version}`);
  } finally {
    server.kill('SIGINT');
    await exited;
    await standIns.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
