/**
 * The user's continuity status, kept current: a REST pull on mount, then pushes over the status
 * socket (which replays what was missed from the last seq on every reconnect), and REST pulls now
 * and then while the socket is down. Only a newer seq replaces what is shown. It also acknowledges
 * the active events it shows (over the socket, else REST) for the admin report. The API client and
 * the socket factory are passed in; it never reads Office.js or storage.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type Api } from '../../lib/api';
import type { ConnectionState, StatusSocket, StatusSocketOptions } from '../../lib/socket';
import { isNewer, type ContinuityStatus } from '../../lib/status';

export const POLL_WHILE_DISCONNECTED_MS = 30_000;

/** Opens the status socket (the caller binds the url and the token source). */
export type OpenStatusSocket = (handlers: Pick<StatusSocketOptions, 'getLastSeq' | 'onStatus' | 'onConnection'>) => StatusSocket;

export interface ContinuityStatusDeps {
  /** Nothing is fetched or opened until the user is signed in; signing out forgets the status. */
  enabled: boolean;
  api: Pick<Api, 'status' | 'seen'>;
  openSocket: OpenStatusSocket;
  /** The client kind sent with each acknowledgement. */
  clientKind: string;
  /** The server refused the token (401). */
  onUnauthorized: () => void;
  /** Each status newer than the one shown (the pane saves it for the OnMessageSend handler). */
  onNewStatus?: (status: ContinuityStatus) => void;
  pollMs?: number;
}

export interface ContinuityStatusView {
  status: ContinuityStatus | null;
  error: ApiError | null;
  loading: boolean;
  connection: ConnectionState;
  /** When the last status (new or not) arrived. */
  lastUpdate: number | null;
  /** Pull the status now (the Retry button). */
  reload: () => Promise<void>;
}

export function useContinuityStatus(deps: ContinuityStatusDeps): ContinuityStatusView {
  const { enabled, api, openSocket, clientKind, pollMs = POLL_WHILE_DISCONNECTED_MS } = deps;
  const [status, setStatus] = useState<ContinuityStatus | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [connection, setConnection] = useState<ConnectionState>({ kind: 'connecting' });
  const [lastUpdate, setLastUpdate] = useState<number | null>(null);

  const statusRef = useRef<ContinuityStatus | null>(null);
  const liveRef = useRef<StatusSocket | null>(null);
  /** Active events this view has acknowledged (the server keeps the first receipt per user anyway). */
  const ackedRef = useRef(new Set<string>());
  const callbacks = useRef({ onUnauthorized: deps.onUnauthorized, onNewStatus: deps.onNewStatus });
  callbacks.current = { onUnauthorized: deps.onUnauthorized, onNewStatus: deps.onNewStatus };

  const applyStatus = useCallback((incoming: ContinuityStatus) => {
    setLastUpdate(Date.now());
    if (!isNewer(statusRef.current, incoming)) return;
    statusRef.current = incoming;
    setStatus(incoming);
    callbacks.current.onNewStatus?.(incoming);
  }, []);

  const reload = useCallback(async () => {
    setLoading(true);
    try {
      applyStatus(await api.status());
      setError(null);
    } catch (err) {
      const failure = err instanceof ApiError ? err : new ApiError((err as Error).message, 0);
      if (failure.unauthorized) callbacks.current.onUnauthorized();
      else setError(failure);
    } finally {
      setLoading(false);
    }
  }, [api, applyStatus]);

  // Signed out: forget what was shown, so the next sign-in starts from nothing.
  useEffect(() => {
    if (enabled) return;
    statusRef.current = null;
    ackedRef.current.clear();
    setStatus(null);
    setError(null);
  }, [enabled]);

  // Pull on every mount (the pane closes on item switch unless pinned), then listen for pushes.
  useEffect(() => {
    if (!enabled) return;
    void reload();
    setConnection({ kind: 'connecting' });
    const live = openSocket({
      getLastSeq: () => statusRef.current?.seq ?? -1,
      onStatus: (s) => {
        applyStatus(s);
        setError(null);
      },
      onConnection: setConnection,
    });
    liveRef.current = live;
    return () => {
      liveRef.current = null;
      live.close();
    };
  }, [enabled, openSocket, reload, applyStatus]);

  // Acknowledge the active events shown (the admin report counts users who got the start banner):
  // over the socket, or over REST when the socket is down. Best-effort: a failed receipt is tried
  // again with the next status.
  useEffect(() => {
    if (!enabled || !status?.active) return;
    const eventIds = status.events.map((e) => e.id).filter((id) => !ackedRef.current.has(id));
    if (!eventIds.length) return;
    eventIds.forEach((id) => ackedRef.current.add(id));
    const receipt = { seq: status.seq, eventIds, client: clientKind };
    void (async () => {
      const bySocket = (await liveRef.current?.acknowledge(receipt)) ?? false;
      if (!bySocket) await api.seen(receipt);
    })().catch(() => eventIds.forEach((id) => ackedRef.current.delete(id)));
  }, [enabled, status, api, clientKind]);

  // While the socket is down, pull now and then (the REST fallback).
  useEffect(() => {
    if (!enabled || connection.kind === 'live' || connection.kind === 'connecting') return;
    const timer = setInterval(() => void reload(), pollMs);
    return () => clearInterval(timer);
  }, [enabled, connection.kind, reload, pollMs]);

  return { status, error, loading, connection, lastUpdate, reload };
}
