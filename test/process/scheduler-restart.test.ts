import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killServerOutright, processesMentioning, startServer, waitFor } from '../harness/server-process';

const ADMIN = { LIFEBOAT_ADMIN_EMAIL: 'it@contoso.test', LIFEBOAT_ADMIN_PASSWORD: 'first admin password' };

describe('a server killed while an event is pending', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-restart-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('fires the missed start exactly once after it comes back', async () => {
    const env = { ...ADMIN, LIFEBOAT_DATA_DIR: dataDir };
    const first = await startServer(env);
    const login = await fetch(`${first.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'it@contoso.test', password: 'first admin password' }),
    });
    const cookie = login.headers.getSetCookie()[0].split(';')[0];
    const headers = { cookie, 'content-type': 'application/json' };
    const start = Date.now() + 4000;
    const created = await fetch(`${first.url}/api/events`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        description: 'Planned failover',
        affectedGroupId: 'g-all-staff',
        timeZone: 'Europe/London',
        start: new Date(start).toISOString(),
        end: null,
      }),
    });
    expect(created.status).toBe(201);
    const { id } = await created.json();

    // Killed outright while the event is still pending: no chance to fire or clean up.
    killServerOutright(dataDir);
    await first.exited;
    await waitFor(() => processesMentioning(dataDir).length === 0, 10_000, 'the old database to exit');
    await new Promise((r) => setTimeout(r, Math.max(0, start + 500 - Date.now())));

    const second = await startServer(env);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const found: unknown[] = await (await fetch(`${second.url}/api/events/${id}/transitions`, { headers })).json();
      if (found.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1500)); // a duplicate would have fired by now
    const transitions: { kind: string; cause: string; firedAt: string; scheduledAt: string }[] = await (
      await fetch(`${second.url}/api/events/${id}/transitions`, { headers })
    ).json();
    expect(transitions.map((t) => [t.kind, t.cause])).toEqual([['start', 'schedule']]);
    expect(Date.parse(transitions[0].firedAt)).toBeGreaterThan(start);
    const event = await (await fetch(`${second.url}/api/events/${id}`, { headers })).json();
    expect(event.status).toBe('current');
    await second.stop();
  });
});
