/**
 * Live changes for admins: the server authenticates this socket by the session cookie and emits
 * `continuity:changed` to the tenant's admins; the page refetches what it shows.
 */
import { useEffect, useRef, useState } from 'react';
import { io } from 'socket.io-client';

export type LiveState = 'connecting' | 'live' | 'offline';

export function useContinuityChanges(onChange: () => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const handler = useRef(onChange);
  handler.current = onChange;
  useEffect(() => {
    const socket = io({ withCredentials: true, transports: ['websocket', 'polling'] });
    socket.on('connect', () => {
      setState('live');
      // Anything may have changed while the socket was away.
      handler.current();
    });
    socket.on('disconnect', () => setState('offline'));
    socket.on('connect_error', () => setState('offline'));
    socket.on('continuity:changed', () => handler.current());
    return () => {
      socket.close();
    };
  }, []);
  return state;
}

/**
 * Named admin events with a payload (`threat-scan:progress`, `threat-scan:remediation`): the server
 * pushes the new state itself, so the page shows it without a refetch. `onConnect` refetches after a gap.
 */
export function useAdminEvents(handlers: Record<string, (payload: unknown) => void>, onConnect: () => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const current = useRef({ handlers, onConnect });
  current.current = { handlers, onConnect };
  const names = Object.keys(handlers).sort().join(',');
  useEffect(() => {
    const socket = io({ withCredentials: true, transports: ['websocket', 'polling'] });
    socket.on('connect', () => {
      setState('live');
      current.current.onConnect();
    });
    socket.on('disconnect', () => setState('offline'));
    socket.on('connect_error', () => setState('offline'));
    for (const name of names.split(',')) socket.on(name, (payload: unknown) => current.current.handlers[name]?.(payload));
    return () => {
      socket.close();
    };
  }, [names]);
  return state;
}
