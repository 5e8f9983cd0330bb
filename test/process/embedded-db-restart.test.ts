/**
 * PROCESS: the embedded database dies under a running server (OOM killer, a crash) and the server
 * starts it again on the same port: the API answers again with the data written before, nothing
 * else is restarted, and stopping the server afterwards leaves no database process behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processesMentioning, startServer, waitFor, type ServerProcess } from '../harness/server-process';

const ADMIN = { email: 'it@contoso.test', password: 'first admin password' };

describe('the embedded database killed under a running server', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-db-restart-'));
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is started again on its port and the server goes on with the data it had', async () => {
    server = await startServer({ LIFEBOAT_ADMIN_EMAIL: ADMIN.email, LIFEBOAT_ADMIN_PASSWORD: ADMIN.password, LIFEBOAT_DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    expect(login.status).toBe(200);
    const headers = { cookie: login.headers.getSetCookie()[0]!.split(';')[0]!, 'content-type': 'application/json' };
    const created = await fetch(`${server.url}/api/events`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        description: 'Written before the crash',
        affectedGroupId: 'g-all-staff',
        timeZone: 'UTC',
        start: new Date(Date.now() + 86_400_000).toISOString(),
        end: null,
      }),
    });
    expect(created.status).toBe(201);

    const [database] = processesMentioning(path.join(dataDir, 'db'));
    expect(database).toBeDefined();
    process.kill(database!, 'SIGKILL');

    await waitFor(() => /The embedded database is running again on port \d+/.test(server!.stdout()), 60_000, 'the database to be started again');
    const again = processesMentioning(path.join(dataDir, 'db'));
    expect(again).toHaveLength(1);
    expect(again[0]).not.toBe(database);
    // The driver reconnects to the same port by itself: the same session reads what was written before.
    const deadline = Date.now() + 60_000;
    let listed = false;
    while (!listed && Date.now() < deadline) {
      const res = await fetch(`${server.url}/api/events`, { headers }).catch(() => null);
      listed = Boolean(res?.ok && ((await res.json()) as Array<{ description: string }>).some((e) => e.description === 'Written before the crash'));
      if (!listed) await new Promise((r) => setTimeout(r, 250));
    }
    expect(listed).toBe(true);
    expect(server.child.exitCode).toBeNull();

    expect(await server.stop()).toBe(0);
    server = undefined;
    await waitFor(() => processesMentioning(path.join(dataDir, 'db')).length === 0, 10_000, 'the database to stop with the server');
  }, 180_000);
});
