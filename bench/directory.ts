/**
 * npm run bench:directory — a generated Entra tenant (users, groups nested up to 5 deep) served by the
 * local Graph stand-in; the real server (server/main.ts) syncs it into a database it shares with a
 * second node: this process, reading through the same code the server's readers use (the synced
 * directory of ../server/directory/synced-view.ts and the expansions of the Graph provider).
 *
 * Prints, for a full sync and for an incremental sync after 100 membership changes, the sync's own
 * time and the END-TO-END time: from the request that starts the sync until the second node's
 * readers see the result (every user of the tenant, or every one of the 100 changes, in both the
 * directory and the expansions). Also the server's phases, its peak memory (VmHWM) and the load.
 *
 * Each end-to-end figure comes with its timeline (when the server started and switched, when the
 * second node read the directory and then everything).
 *
 * --users N --groups N (or BENCH_USERS / BENCH_GROUPS): the tenant's size; the default is small enough
 * for a few minutes on a shared machine; the issue's size is --users 100000 --groups 5000.
 * --incrementals N (default 3): incremental syncs of 100 changes one after the other.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openConnection } from '../server/db/connection';
import { startEmbeddedDatabase } from '../server/db/embedded/ferretdb';
import { overlayChainOf, syncStateModel } from '../server/directory/graph/model';
import { createSyncStore } from '../server/directory/graph/store';
import { createSyncedStore } from '../server/directory/synced-store';
import { createSyncedViews } from '../server/directory/synced-view';
import { generateTenant, prng, startStandIns, StandInWorld } from '../test/stand-ins/entra';
import { assertCertificateTrusted, TEST_CERT_FILE } from '../test/stand-ins/tls';
import { runBench } from './cli';

const ROOT = path.resolve(__dirname, '..');
const { values: flags } = parseArgs({ options: { users: { type: 'string' }, groups: { type: 'string' }, incrementals: { type: 'string' } } });
const USERS = Number(flags.users ?? process.env.BENCH_USERS ?? 20_000);
const GROUPS = Number(flags.groups ?? process.env.BENCH_GROUPS ?? 1_000);
/** Incremental syncs of 100 changes each, one after the other (each adds an overlay of expansions to the chain). */
const INCREMENTALS = Number(flags.incrementals ?? 3);
const CLIENT_ID = '0b1e5c5e-0000-4000-8000-00000000be7c';
const SECRET = 'bench-client-secret-value';
const ADMIN = { email: 'admin@contoso.test', password: 'bench password 123' };

const peakMemory = (pid: number) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const load = () =>
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  // One database for both nodes, as a deployment of several nodes has.
  const database = await startEmbeddedDatabase({ dataDir: path.join(dataDir, 'db') });
  const uri = new URL(database.uri);
  uri.pathname = '/lifeboat_bench';
  const conn = await openConnection(uri.toString());
  // The second node's readers.
  const states = syncStateModel(conn);
  const views = createSyncedViews({ states, store: createSyncedStore(conn) });
  const expansionStore = createSyncStore(conn);
  const expansionOf = async (tenantId: string, groupId: string) => {
    const state = await states.findById(tenantId).lean();
    if (!state?.expansionGeneration) return null;
    return expansionStore.expansions(tenantId, state.expansionGeneration, overlayChainOf(state)).get(groupId);
  };
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server', 'main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: '0',
      // info: the server's "directory sync succeeded" line carries where the time went.
      LOG_LEVEL: 'info',
      LIFEBOAT_DATA_DIR: path.join(dataDir, 'node-a'),
      MONGODB_URI: uri.toString(),
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
    /** Starts a sync; resolves with its status and the end-to-end time: until `seen()` holds on the second node. */
    const syncOnce = async (full: boolean, seen: (tenantId: string, mark: (name: string) => void) => Promise<boolean>) => {
      const t0 = performance.now();
      const wall0 = Date.now();
      // Where the end-to-end time went, relative to the request that starts the sync (first time each was reached).
      const timeline = new Map<string, number>();
      const mark = (name: string) => {
        if (!timeline.has(name)) timeline.set(name, performance.now() - t0);
      };
      await call('POST', '/api/directory/sync', { full });
      mark('the start request answered');
      const tenantId = String((await states.findOne({}, { _id: 1 }).lean())!._id);
      let endToEnd: number | null = null;
      let giveUpAt = Infinity; // a minute after the sync ended
      const watcher = (async () => {
        while (endToEnd === null && performance.now() < giveUpAt) {
          if (await seen(tenantId, mark)) endToEnd = performance.now() - t0;
          else await sleep(20);
        }
        if (endToEnd === null) throw new Error('the second node never saw the sync');
      })();
      for (;;) {
        await sleep(100);
        const s = await call('GET', '/api/directory/sync');
        if (s.state === 'running') continue;
        if (s.state !== 'succeeded') throw new Error(`sync ${s.state}: ${s.error}`);
        giveUpAt = performance.now() + 60_000;
        await watcher;
        timeline.set('the sync started (server)', Date.parse(s.startedAt) - wall0);
        timeline.set('the sync switched (server)', Date.parse(s.finishedAt) - wall0);
        mark('the second node saw everything');
        const steps = [...timeline].sort((a, b) => a[1] - b[1]).map(([name, ms]) => `${name} ${(ms / 1000).toFixed(2)} s`);
        console.log(`  timeline: ${steps.join(' → ')}`);
        return { status: s as { startedAt: string; finishedAt: string; pages: number; users: number; groups: number; mode: string }, endToEnd: endToEnd! };
      }
    };
    const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

    // A group with members, to read its expansion on the second node.
    const probe = [...tenant.groups.values()].find((g) => g.members.size > 0)!.id;
    const full = await syncOnce(true, async (tenantId, mark) => {
      const view = await views.current(tenantId);
      if (view?.users.size !== USERS || !view.groups.has(probe)) return false;
      mark('the second node read the directory');
      return Boolean(await expansionOf(tenantId, probe));
    });
    const fullMs = Date.parse(full.status.finishedAt) - Date.parse(full.status.startedAt);
    console.log(`full sync: ${secs(fullMs)} (${full.status.pages} pages, ${full.status.users} users, ${full.status.groups} groups)`);
    console.log(await phases());
    console.log(`  END TO END, full sync start → the second node reads every user and the expansions: ${secs(full.endToEnd)} (goal ≤ 15 s); ${load()}`);

    for (let round = 1; round <= INCREMENTALS; round++) {
      // 100 membership changes: 50 additions, 50 removals, in random groups.
      const random = prng(7 * round);
      const groupIds = [...tenant.groups.keys()];
      const userIds = [...tenant.users.keys()];
      const touched = new Set<string>();
      let changes = 0;
      while (changes < 100) {
        const group = tenant.groups.get(groupIds[Math.floor(random() * groupIds.length)])!;
        if (changes % 2 === 0) {
          const user = userIds[Math.floor(random() * userIds.length)];
          tenant.addMember(group.id, user);
          touched.add(`${group.id}|${user}`);
          changes++;
        } else {
          const member = [...group.members].find((m) => tenant.users.has(m));
          if (member) {
            tenant.removeMember(group.id, member);
            touched.add(`${group.id}|${member}`);
            changes++;
          }
        }
      }
      // What the second node must see: each touched membership as Graph now has it, in the directory
      // (direct members) and, for members, in the group's expansion.
      const wanted = [...touched].map((key) => {
        const [groupId, userId] = key.split('|');
        return { groupId, userId, member: tenant.groups.get(groupId)!.members.has(userId) };
      });
      const incremental = await syncOnce(false, async (tenantId, mark) => {
        const view = await views.current(tenantId);
        if (!view) return false;
        for (const w of wanted) if (view.groups.get(w.groupId)?.members.includes(w.userId) !== w.member) return false;
        mark('the second node read the directory');
        const expanded = await Promise.all(wanted.map(async (w) => !w.member || Boolean((await expansionOf(tenantId, w.groupId))?.userIds.includes(w.userId))));
        return expanded.every(Boolean);
      });
      const incMs = Date.parse(incremental.status.finishedAt) - Date.parse(incremental.status.startedAt);
      const which = INCREMENTALS > 1 ? ` (${round} of ${INCREMENTALS})` : '';
      console.log(`incremental sync${which} after 100 membership changes: ${secs(incMs)} (${incremental.status.mode}, ${incremental.status.pages} pages)`);
      console.log(await phases());
      console.log(
        `  END TO END, incremental sync${which} start → the second node reads all 100 changes: ${secs(incremental.endToEnd)} (goal ≤ 2 s); ${load()}`,
      );
    }
    console.log(`peak memory of the server process (VmHWM): ${mb(peakMemory(server.pid!))}`);
    console.log(`machine: ${os.cpus().length} cores, Node ${process.version}; ${load()}`);
  } finally {
    server.kill('SIGINT');
    await exited;
    await standIns.close();
    await conn.close();
    await database.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(main);
