/**
 * Live status over Socket.IO. Every (re)connect sends a fresh token and the last seq seen, so the
 * server can replay what the pane missed; connection changes are reported as live / reconnecting /
 * offline with the time the connection was lost.
 */
import { io, type Socket } from 'socket.io-client';
import { parseStatus, type ContinuityStatus } from './status';

export type ConnectionState =
  { kind: 'connecting' } | { kind: 'live'; since: number } | { kind: 'reconnecting'; since: number } | { kind: 'offline'; since: number };

export interface StatusSocketOptions {
  /** The backend origin ('' or the pane's origin: same origin). */
  url: string;
  /** A fresh bearer token, asked for on every connection attempt. */
  getToken: () => Promise<string | null>;
  /** The highest seq the pane has shown (-1 for none). */
  getLastSeq: () => number;
  onStatus: (status: ContinuityStatus) => void;
  onConnection: (state: ConnectionState) => void;
  /** The server refused the handshake (bad or expired token). */
  onRefused?: (message: string) => void;
  /** Failed attempts after which "reconnecting" becomes "offline" (the socket keeps trying). */
  offlineAfterFailures?: number;
  now?: () => number;
}

export interface StatusSocket {
  close(): void;
  /**
   * Tells the server the pane shows these active events (`continuity:seen`). Resolves true once the
   * server answered; false when the socket is down or no answer came in time (use the REST fallback).
   */
  acknowledge(receipt: { seq: number; eventIds: string[]; client?: string }, timeoutMs?: number): Promise<boolean>;
  /** For tests and diagnostics. */
  readonly socket: Socket;
}

export const STATUS_EVENT = 'continuity:status';
export const SEEN_EVENT = 'continuity:seen';

export function connectStatusSocket(options: StatusSocketOptions): StatusSocket {
  const now = options.now ?? Date.now;
  const offlineAfter = options.offlineAfterFailures ?? 3;
  let lostAt: number | null = null;
  let failures = 0;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;

  const socket = io(options.url || undefined, {
    path: '/socket.io',
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10_000,
    auth: (cb) => {
      options.getToken().then(
        (token) => cb({ token, lastSeq: options.getLastSeq() }),
        () => cb({ token: null, lastSeq: options.getLastSeq() }),
      );
    },
  });

  const retryLater = (delayMs: number) => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (!closed && !socket.connected) socket.connect();
    }, delayMs);
  };

  socket.on('connect', () => {
    failures = 0;
    lostAt = null;
    options.onConnection({ kind: 'live', since: now() });
  });
  socket.on('disconnect', (reason) => {
    if (closed) return;
    lostAt = now();
    options.onConnection({ kind: 'reconnecting', since: lostAt });
    // The client reconnects by itself except when the server ended the connection on purpose.
    if (reason === 'io server disconnect') retryLater(1000);
  });
  socket.on('connect_error', (err) => {
    if (closed) return;
    lostAt ??= now();
    failures += 1;
    options.onConnection(failures >= offlineAfter ? { kind: 'offline', since: lostAt } : { kind: 'reconnecting', since: lostAt });
    if (!socket.active) {
      // Refused by the server's middleware (e.g. an expired token): no automatic retry, so try again with a fresh token.
      options.onRefused?.(err.message);
      retryLater(Math.min(30_000, 2000 * failures));
    }
  });
  socket.on(STATUS_EVENT, (payload: unknown) => {
    const status = parseStatus(payload);
    if (status) options.onStatus(status);
  });

  return {
    socket,
    acknowledge(receipt, timeoutMs = 5000) {
      if (closed || !socket.connected) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        socket.timeout(timeoutMs).emit(SEEN_EVENT, receipt, (err: Error | null) => resolve(!err));
      });
    },
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
}
