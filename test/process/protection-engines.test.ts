/**
 * The server process and its scanning engines: with LIFEBOAT_RSPAMD_URL unset and rspamd installed, the
 * server starts its own rspamd (resolver = LIFEBOAT_DNS_SERVERS) and stops it with itself; without the
 * binary, content scanning is reported `unavailable`.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processesMentioning, startServer, waitFor } from '../harness/server-process';
import { startDnsStandIn, type DnsStandIn } from '../stand-ins/dns';

const ADMIN = { LIFEBOAT_ADMIN_EMAIL: 'it@contoso.test', LIFEBOAT_ADMIN_PASSWORD: 'first admin password' };
const tempDirs: string[] = [];
let dns: DnsStandIn;
beforeAll(async () => {
  dns = await startDnsStandIn({});
});
afterAll(async () => {
  await dns.close();
  tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

async function engines(url: string): Promise<{ rspamd: string; rspamdSource: string; clamd: string }> {
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN.LIFEBOAT_ADMIN_EMAIL, password: ADMIN.LIFEBOAT_ADMIN_PASSWORD }),
  });
  const cookie = login.headers.getSetCookie()[0].split(';')[0];
  return (await fetch(`${url}/api/protection/engines`, { headers: { cookie } })).json();
}

function childrenOf(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === parent) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** rspamd renames its processes (`rspamd: main process`): find its main as the server's child, then the workers. */
function rspamdFamily(serverPid: number): number[] {
  const mains = childrenOf(serverPid).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('rspamd'));
  return mains.flatMap((main) => [main, ...childrenOf(main)]);
}
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
};
let rspamdPids: number[] = [];

test('unset LIFEBOAT_RSPAMD_URL: the server starts its own rspamd on loopback and stops it with itself', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-protect-'));
  tempDirs.push(dataDir);
  const server = await startServer({ ...ADMIN, LIFEBOAT_DATA_DIR: dataDir, LIFEBOAT_RSPAMD_URL: '', LIFEBOAT_DNS_SERVERS: dns.server });
  try {
    // rspamd loads its rules in the background; the server answers meanwhile.
    let state = await engines(server.url);
    // A wait, not a speed limit: on a loaded machine the first start (hyperscan compile) takes minutes.
    const deadline = Date.now() + 600_000;
    while (state.rspamd !== 'ok' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      state = await engines(server.url);
    }
    expect(state).toEqual({ rspamd: 'ok', rspamdSource: 'embedded', clamd: 'notConfigured' });
    const conf = readFileSync(path.join(dataDir, 'rspamd', 'rspamd.conf'), 'utf8');
    expect(conf).toContain(`nameserver = ["${dns.server}"]`);
    expect(conf).toMatch(/bind_socket = "127\.0\.0\.1:\d+"/);
    rspamdPids = rspamdFamily(server.child.pid!);
    expect(rspamdPids.length).toBeGreaterThanOrEqual(3); // main, normal worker, controller
  } finally {
    expect(await server.stop('SIGTERM')).toBe(0);
  }
  await waitFor(() => rspamdPids.every((pid) => !alive(pid)), 15_000, 'rspamd to stop');
  await waitFor(() => processesMentioning(dataDir).length === 0, 15_000, 'the database to stop');
}, 700_000);

test('rspamd not installed: scanning is unavailable, and the server runs', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-protect-'));
  tempDirs.push(dataDir);
  const withoutRspamd = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !existsSync(path.join(dir, 'rspamd')))
    .join(path.delimiter);
  const server = await startServer({ ...ADMIN, LIFEBOAT_DATA_DIR: dataDir, LIFEBOAT_RSPAMD_URL: '', PATH: withoutRspamd });
  try {
    expect(await engines(server.url)).toEqual({ rspamd: 'unavailable', rspamdSource: 'unavailable', clamd: 'notConfigured' });
  } finally {
    expect(await server.stop('SIGTERM')).toBe(0);
  }
}, 120_000);
