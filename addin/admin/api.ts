/**
 * The admin page's REST client: same origin, the session cookie does the authentication.
 * Errors carry the problem+json detail and, for 422, the field errors keyed by path.
 */
export interface FieldError {
  path: string;
  message: string;
}

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

export type Role = 'readOnly' | 'basicAdministrator' | 'fullAdministrator';
export interface Me {
  email: string;
  tenantId: string;
  role: Role;
}

export const SESSION_ENDED = 'lifeboat:session-ended';

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
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

export const ROLE_LABELS: Record<Role, string> = {
  readOnly: 'Read-only administrator',
  basicAdministrator: 'Basic administrator',
  fullAdministrator: 'Full administrator',
};

/** Why a control is disabled for this role, or null when the role may use it. */
export function denied(me: Me, needs: 'basicAdministrator' | 'fullAdministrator'): string | null {
  const rank: Record<Role, number> = { readOnly: 0, basicAdministrator: 1, fullAdministrator: 2 };
  if (rank[me.role] >= rank[needs]) return null;
  return `Your role (${ROLE_LABELS[me.role]}) can view this but not change it; it needs a ${ROLE_LABELS[needs].toLowerCase()}.`;
}
