/**
 * A stand-in for the Lifeboat backend's user-facing contract (docs/api.md; server/push/contract.ts), for browser tests of the pane
 * until the real backend lands. It serves the real built pane through the real add-in router and
 * speaks the agreed contract:
 *   POST /api/user-auth/login {email, password} → {token, expiresAt} | 401 problem+json
 *   GET  /api/me/status (Bearer) → {seq, active, events, at}
 *   POST /api/me/client (Bearer) → 204 (recorded)
 *   GET  /api/me/mailbox (Bearer) → an empty continuity mailbox
 *   Socket.IO (default path): auth {token, lastSeq}; emits `continuity:status`; replays on connect
 *   when lastSeq is older than the current seq.
 * Tests drive it: setStatus() pushes to connected panes; cut() drops every socket and holds new
 * handshakes until resume(), so a test can change the state while the pane is disconnected.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Server as SocketServer } from 'socket.io';
import type { ContinuityEvent, ContinuityStatus } from '../../../addin/lib/status';
import { addinRoutes } from '../../../server/addin/routes';

/** The contract's payload types, shared with the pane. */
export type StandInEvent = ContinuityEvent;
export type StandInStatus = ContinuityStatus;

export interface ApiStandIn {
  url: string;
  /** Replaces the user's status with a new seq and pushes it to connected panes. */
  setStatus(next: { active: boolean; events: StandInEvent[] }): StandInStatus;
  current(): StandInStatus;
  /** Drops every socket; new handshakes wait until resume(). */
  cut(): void;
  resume(): void;
  connectedSockets(): number;
  readonly logins: { email: string; ok: boolean }[];
  readonly clientReports: Record<string, unknown>[];
  readonly handshakes: { token: unknown; lastSeq: unknown }[];
  readonly statusRequests: number[];
  close(): Promise<void>;
}

export const STAND_IN_PASSWORD = 'correct horse battery staple';
const KINDS = ['classicWindows', 'mac', 'newOutlookWindows', 'web', 'mobile', 'unknown'];
const CACHED = ['confirmed', 'notConfirmed', 'unknown', 'always', 'notApplicable'];

function problem(res: express.Response, status: number, title: string, detail: string) {
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: 'about:blank', title, status, detail }));
}

export async function startApiStandIn(options: { buildDir: string }): Promise<ApiStandIn> {
  const tokens = new Set<string>();
  let status: StandInStatus = { seq: 1, active: false, events: [], at: new Date().toISOString() };
  const logins: ApiStandIn['logins'] = [];
  const clientReports: ApiStandIn['clientReports'] = [];
  const handshakes: ApiStandIn['handshakes'] = [];
  const statusRequests: number[] = [];
  let gate: { promise: Promise<void>; open: () => void } | null = null;

  const app = express();
  app.use(express.json());
  const bearer = (req: express.Request) => {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return match && tokens.has(match[1]) ? match[1] : null;
  };

  app.post('/api/user-auth/login', (req, res) => {
    const { email, password } = req.body ?? {};
    const ok = typeof email === 'string' && password === STAND_IN_PASSWORD;
    logins.push({ email: String(email), ok });
    if (!ok) return problem(res, 401, 'Unauthorized', 'The email address or password is not right.');
    const token = `standin-${randomUUID()}`;
    tokens.add(token);
    res.json({ token, expiresAt: new Date(Date.now() + 3600_000).toISOString() });
  });
  app.get('/api/me/status', (req, res) => {
    if (!bearer(req)) return problem(res, 401, 'Unauthorized', 'Sign in first.');
    statusRequests.push(status.seq);
    res.json(status);
  });
  app.post('/api/me/client', (req, res) => {
    if (!bearer(req)) return problem(res, 401, 'Unauthorized', 'Sign in first.');
    const b = req.body ?? {};
    const bad =
      !KINDS.includes(b.kind) || !CACHED.includes(b.cachedMode) || ['hostName', 'platform', 'accountType', 'hostVersion'].some((k) => typeof b[k] !== 'string');
    if (bad) return problem(res, 422, 'Unprocessable Content', `bad client report: ${JSON.stringify(b)}`);
    clientReports.push(b);
    res.status(204).end();
  });
  // The continuity mailbox (docs/user-guide.md): this stand-in's user has none yet (real mail flows are tested
  // against the real server in taskpane-mail.test.ts).
  app.get('/api/me/mailbox', (req, res) => {
    if (!bearer(req)) return problem(res, 401, 'Unauthorized', 'Sign in first.');
    res.json({ items: [], nextCursor: null });
  });
  app.use(addinRoutes({ buildDir: options.buildDir, config: { naa: null, continuityInboxUrl: 'https://lifeboat.contoso.test/inbox' } }));

  const server = http.createServer(app);
  const io = new SocketServer(server);
  io.use(async (socket, next) => {
    const auth = socket.handshake.auth as { token?: unknown; lastSeq?: unknown };
    handshakes.push({ token: auth.token, lastSeq: auth.lastSeq });
    if (gate) await gate.promise;
    if (typeof auth.token !== 'string' || !tokens.has(auth.token)) return next(new Error('unauthorized'));
    next();
  });
  io.on('connection', (socket) => {
    const lastSeq = (socket.handshake.auth as { lastSeq?: unknown }).lastSeq;
    // Replay: the pane missed something (or has nothing yet).
    if (typeof lastSeq !== 'number' || lastSeq < status.seq) socket.emit('continuity:status', status);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    logins,
    clientReports,
    handshakes,
    statusRequests,
    setStatus(next) {
      status = { seq: status.seq + 1, active: next.active, events: next.events, at: new Date().toISOString() };
      if (!gate) io.emit('continuity:status', status);
      return status;
    },
    current: () => status,
    cut() {
      if (!gate) {
        let open = () => {};
        const promise = new Promise<void>((resolve) => (open = resolve));
        gate = { promise, open };
      }
      for (const socket of io.sockets.sockets.values()) socket.conn.close();
    },
    resume() {
      const g = gate;
      gate = null;
      g?.open();
    },
    connectedSockets: () => io.sockets.sockets.size,
    async close() {
      const g = gate;
      gate = null;
      g?.open();
      io.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
