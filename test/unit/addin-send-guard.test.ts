/**
 * The OnMessageSend decision: the pure rule, and the handler itself run against a real local HTTP
 * server standing in for GET /api/me/status, with a stand-in for OfficeRuntime.storage.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onMessageSendHandler } from '../../addin/commands/onsend';
import {
  BLOCK_BUTTON,
  BLOCK_MESSAGE,
  PANE_COMMAND_ID,
  cachedActive,
  completedOptions,
  decideSend,
  loadGuard,
  saveGuard,
  type CachedGuard,
} from '../../addin/lib/send-guard';
import type { ContinuityStatus } from '../../addin/lib/status';

const NOW = new Date('2026-11-22T12:00:00Z');
const activeStatus: ContinuityStatus = {
  seq: 4,
  active: true,
  events: [{ id: 'e1', description: 'Outage', startMessage: 'Use Lifeboat', start: '2026-11-22T10:00:00Z', end: null, timeZone: 'UTC' }],
  at: '2026-11-22T10:00:00Z',
};
const inactiveStatus: ContinuityStatus = { seq: 5, active: false, events: [], at: '2026-11-22T11:00:00Z' };
const guard = (status: ContinuityStatus, savedAt = '2026-11-22T11:59:00Z'): CachedGuard => ({ status, savedAt });

describe('decideSend', () => {
  it('blocks during an active event, by the backend’s word', () => {
    expect(decideSend({ kind: 'status', status: activeStatus }, null, NOW)).toEqual({ allow: false, reason: 'active', message: BLOCK_MESSAGE });
  });
  it('lets the send through outside events, even if the cache still says active', () => {
    expect(decideSend({ kind: 'status', status: inactiveStatus }, guard(activeStatus), NOW)).toEqual({ allow: true, reason: 'inactive' });
  });
  it('backend unreachable: the cached status decides', () => {
    expect(decideSend({ kind: 'unavailable', reason: 'down' }, guard(activeStatus), NOW)).toMatchObject({ allow: false, reason: 'activeCached' });
    expect(decideSend({ kind: 'unavailable', reason: 'down' }, guard(inactiveStatus), NOW)).toMatchObject({ allow: true, reason: 'inactiveCached' });
  });
  it('no status at all: allow (SoftBlock never strands mail)', () => {
    expect(decideSend({ kind: 'unavailable', reason: 'down' }, null, NOW)).toMatchObject({ allow: true, reason: 'noStatus' });
  });
  it('a cached event that has ended since, or a cache older than a week, does not block', () => {
    const ended = { ...activeStatus, events: [{ ...activeStatus.events[0]!, end: '2026-11-22T11:30:00Z' }] };
    expect(cachedActive(guard(ended), NOW)).toBe(false);
    expect(cachedActive(guard(activeStatus, '2026-11-10T00:00:00Z'), NOW)).toBe(false);
    expect(cachedActive(guard({ ...activeStatus, events: [{ ...activeStatus.events[0]!, end: '2026-11-22T13:00:00Z' }] }), NOW)).toBe(true);
  });
  it('completed options: block with the message and the pane button, or allow', () => {
    expect(completedOptions({ allow: true, reason: 'inactive' })).toEqual({ allowEvent: true });
    expect(completedOptions({ allow: false, reason: 'active', message: BLOCK_MESSAGE })).toEqual({
      allowEvent: false,
      errorMessage: BLOCK_MESSAGE,
      cancelLabel: BLOCK_BUTTON,
      commandId: PANE_COMMAND_ID,
    });
    expect(BLOCK_BUTTON.length).toBeLessThanOrEqual(20);
  });
});

describe('onMessageSendHandler', () => {
  let server: http.Server;
  let answer: { status: number; body: unknown } = { status: 200, body: activeStatus };
  const seen: string[] = [];
  const store = new Map<string, string>();
  const g = globalThis as unknown as { location?: { origin: string }; OfficeRuntime?: unknown };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    g.location = { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    g.OfficeRuntime = {
      storage: {
        getItem: async (k: string) => store.get(k) ?? null,
        setItem: async (k: string, v: string) => void store.set(k, v),
        removeItem: async (k: string) => void store.delete(k),
      },
    };
  });
  afterAll(async () => {
    delete g.location;
    delete g.OfficeRuntime;
    await new Promise<void>((r) => server.close(() => r()));
  });
  beforeEach(() => {
    store.clear();
    seen.length = 0;
  });

  const run = () =>
    new Promise<Office.SmartAlertsEventCompletedOptions | undefined>((resolve) => {
      void onMessageSendHandler({ completed: resolve });
    });
  const future = new Date(Date.now() + 3600_000).toISOString();

  it('with the pane’s token: asks the backend, blocks during the event and caches what it heard', async () => {
    await saveGuard({ status: inactiveStatus, token: 'tok-1', tokenExpiresAt: future });
    answer = { status: 200, body: activeStatus };
    await expect(run()).resolves.toMatchObject({ allowEvent: false, commandId: PANE_COMMAND_ID });
    expect(seen).toEqual(['/api/me/status Bearer tok-1']);
    expect((await loadGuard())?.status.seq).toBe(4);
    answer = { status: 200, body: inactiveStatus };
    await expect(run()).resolves.toEqual({ allowEvent: true });
  });

  it('backend refusing (expired token) or down: the cached status decides; nothing cached: allow', async () => {
    await saveGuard({
      status: { ...activeStatus, events: [{ ...activeStatus.events[0]!, start: new Date(Date.now() - 60_000).toISOString() }] },
      token: 'old',
      tokenExpiresAt: future,
    });
    answer = { status: 401, body: { title: 'Unauthorized' } };
    await expect(run()).resolves.toMatchObject({ allowEvent: false });
    store.clear();
    await expect(run()).resolves.toEqual({ allowEvent: true });
    expect(seen).toEqual(['/api/me/status Bearer old']); // no token, no request
  });

  it('a garbled store lets the send through', async () => {
    store.set('lifeboat.sendGuard', '{not json');
    await expect(run()).resolves.toEqual({ allowEvent: true });
  });
});
