/**
 * The admin page's transport: same origin, the session cookie does the authentication. Errors carry
 * the problem+json detail and, for 422, the field errors keyed by path. Pages call the typed client
 * (./client), which calls this; role checks for disabled controls live here too.
 */
import { ROLE_LABELS, ROLES, type Role } from '../../server/shared/constants';
import type { FieldError, Me } from './contract';

export type { FieldError };

export class AdminApiError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export const SESSION_ENDED = 'lifeboat:session-ended';

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      // A file (Blob) is sent as it is, with its own type; anything else as JSON.
      headers:
        body === undefined
          ? { accept: 'application/json' }
          : { accept: 'application/json', 'content-type': body instanceof Blob ? body.type || 'application/octet-stream' : 'application/json' },
      body: body === undefined ? undefined : body instanceof Blob ? body : JSON.stringify(body),
    });
  } catch {
    throw new AdminApiError('The Lifeboat server cannot be reached. Check your connection and try again.', 0);
  }
  if (res.status === 204) return null as T;
  const json = (res.headers.get('content-type') ?? '').includes('json') ? await res.json().catch(() => null) : null;
  if (res.status === 401 && path !== '/api/auth/login' && path !== '/api/auth/me') {
    // The session ended (expired, or signed out elsewhere): the shell returns to the sign-in form.
    window.dispatchEvent(new Event(SESSION_ENDED));
  }
  if (!res.ok) {
    const problem = (json ?? {}) as { detail?: string; title?: string; errors?: FieldError[] };
    const errors = Array.isArray(problem.errors) ? problem.errors : [];
    const fallback = res.status === 401 ? 'Your session has ended. Please sign in again.' : `The server answered ${res.status}.`;
    const message = errors.length ? 'Some fields need attention.' : (problem.detail ?? problem.title ?? fallback);
    throw new AdminApiError(message, res.status, errors);
  }
  return json as T;
}

/** Builds a query string from the set values only. */
export function query(params: Record<string, string | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Why a control is disabled for this role, or null when the role may use it. */
export function denied(me: Me, needs: Exclude<Role, 'readOnly'>): string | null {
  if (ROLES.indexOf(me.role) >= ROLES.indexOf(needs)) return null;
  return `Your role (${ROLE_LABELS[me.role]}) can view this but not change it; it needs a ${ROLE_LABELS[needs].toLowerCase()}.`;
}
