/**
 * In-memory routing. Office.js sets history.pushState and replaceState to null inside Outlook, so
 * the pane never touches the URL: the current view lives in React state.
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';

export type Route = 'home' | 'signIn';

interface RouterValue {
  route: Route;
  navigate: (route: Route) => void;
}

const RouterContext = createContext<RouterValue | null>(null);

export function MemoryRouter({ initial = 'home', children }: { initial?: Route; children: ReactNode }) {
  const [route, setRoute] = useState<Route>(initial);
  const navigate = useCallback((next: Route) => setRoute(next), []);
  const value = useMemo(() => ({ route, navigate }), [route, navigate]);
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>;
}

export function useRouter(): RouterValue {
  const value = useContext(RouterContext);
  if (!value) throw new Error('useRouter outside MemoryRouter');
  return value;
}
