/**
 * The server as a process: `npm start` on embedded defaults, restarts, signals, crashes,
 * MONGODB_URI, and startup failures that must end in one clear line.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openConnection } from '../../server/db/connection';
import { testDatabaseUri } from '../harness/context';
import { killServerOutright, pathWithoutGo, processesMentioning, runUntilExit, startServer, waitFor } from '../harness/server-process';

const ADMIN = { LIFEBOAT_ADMIN_EMAIL: 'it@contoso.test', LIFEBOAT_ADMIN_PASSWORD: 'first admin password' };
const tempDirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};
afterAll(() => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function login(url: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  expect(res.status).toBe(200);
  return res.headers.getSetCookie()[0].split(';')[0];
}

const me = (url: string, cookie: string) => fetch(`${url}/api/auth/me`, { headers: { cookie } });

describe('server process on the embedded database', () => {
  it('starts with no database configured, keeps state across restarts, and leaves no database process behind', async () => {
    const dataDir = tempDir('lifeboat-data-');
    const first = await startServer({ ...ADMIN, LIFEBOAT_DATA_DIR: dataDir });
    const health = await (await fetch(`${first.url}/healthz`)).json();
    expect(health).toEqual({ status: 'ok', db: 'ok' });
    const [dbPid] = processesMentioning(dataDir);
    expect(dbPid).toBeGreaterThan(0);
    const cookie = await login(first.url, 'it@contoso.test', 'first admin password');
    const secret = readFileSync(path.join(dataDir, 'secret'), 'utf8');
    expect(statSync(path.join(dataDir, 'secret')).mode & 0o777).toBe(0o600);

    expect(await first.stop('SIGINT')).toBe(0);
    await waitFor(() => processesMentioning(dataDir).length === 0, 10_000, 'the embedded database to stop');

    const second = await startServer({ ...ADMIN, LIFEBOAT_DATA_DIR: dataDir });
    try {
      expect((await me(second.url, cookie)).status).toBe(200); // the session survived the restart
      const audit = await (await fetch(`${second.url}/api/audit?limit=500`, { headers: { cookie } })).json();
      const actions = audit.items.map((e: { action: string }) => e.action);
      expect(actions.filter((a: string) => a === 'admin.bootstrapped')).toHaveLength(1);
      expect(actions).toContain('login.succeeded');
      expect(readFileSync(path.join(dataDir, 'secret'), 'utf8')).toBe(secret);
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
    }
    await waitFor(() => processesMentioning(dataDir).length === 0, 10_000, 'the embedded database to stop');
  });

  it('takes the embedded database down with it when the server is killed outright', async () => {
    const dataDir = tempDir('lifeboat-data-');
    const server = await startServer({ ...ADMIN, LIFEBOAT_DATA_DIR: dataDir });
    expect(processesMentioning(dataDir)).toHaveLength(1);
    killServerOutright(dataDir);
    await server.exited;
    await waitFor(() => processesMentioning(dataDir).length === 0, 10_000, 'the orphaned database to exit');
  });

  it('prints a generated first password once when no admin is configured', async () => {
    const dataDir = tempDir('lifeboat-data-');
    const first = await startServer({ LIFEBOAT_DATA_DIR: dataDir });
    const password = /password: (\S+)/.exec(first.stdout())?.[1];
    expect(password).toBeDefined();
    await login(first.url, 'admin@contoso.test', password!);
    await first.stop();
    const second = await startServer({ LIFEBOAT_DATA_DIR: dataDir });
    expect(second.stdout()).not.toMatch(/password:/);
    await second.stop();
  });
});

describe('server process on MONGODB_URI', () => {
  it('uses the configured database and starts no embedded one', async () => {
    const dataDir = tempDir('lifeboat-data-');
    const dbName = `external_${Date.now()}`;
    const uri = `${testDatabaseUri().replace(/\/$/, '')}/${dbName}`;
    const server = await startServer({ ...ADMIN, LIFEBOAT_DATA_DIR: dataDir, MONGODB_URI: uri });
    try {
      expect(processesMentioning(dataDir)).toEqual([]);
      await login(server.url, 'it@contoso.test', 'first admin password');
      const conn = await openConnection(testDatabaseUri(), dbName);
      expect(await conn.collection('tenants').countDocuments({ _id: 'contoso' as never })).toBe(1);
      expect(await conn.collection('directoryusers').countDocuments({ tenantId: 'contoso' })).toBeGreaterThanOrEqual(20);
      await conn.dropDatabase();
      await conn.close();
    } finally {
      await server.stop();
    }
  });
});

describe('startup failures end in one clear message', () => {
  const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at /m);

  it('names a bad variable', async () => {
    const result = await runUntilExit({ PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/configuration error in PORT/);
    noStackTrace(result.stderr);
  });

  it('names a bad directory file and its problem', async () => {
    const file = path.join(tempDir('lifeboat-dir-'), 'broken.json');
    writeFileSync(
      file,
      JSON.stringify({ tenant: { id: 't', name: 'T', domains: ['t.test'] }, users: [], groups: [{ id: 'g', displayName: 'G', members: ['nobody'] }] }),
    );
    const result = await runUntilExit({ LIFEBOAT_DIRECTORY_FILE: file, LIFEBOAT_DATA_DIR: tempDir('lifeboat-data-') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toMatch(/unknown member "nobody"/);
    noStackTrace(result.stderr);
  });

  it('names both ways out when neither MONGODB_URI nor the embedded database is usable', async () => {
    const result = await runUntilExit({ LIFEBOAT_DATA_DIR: tempDir('lifeboat-data-'), LIFEBOAT_CACHE_DIR: tempDir('lifeboat-cache-'), PATH: pathWithoutGo() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/MONGODB_URI/);
    expect(result.stderr).toMatch(/install Go/);
    noStackTrace(result.stderr);
  });

  it('says when MONGODB_URI does not answer', async () => {
    const result = await runUntilExit({
      LIFEBOAT_DATA_DIR: tempDir('lifeboat-data-'),
      MONGODB_URI: 'mongodb://127.0.0.1:1/lifeboat?serverSelectionTimeoutMS=500',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/MONGODB_URI does not answer/);
    noStackTrace(result.stderr);
  });
});
