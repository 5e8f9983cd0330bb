/**
 * The REST client. Errors come back as ApiError: problem+json `detail` (or `title`) when the server
 * sent one, a plain sentence when the server could not be reached.
 */
import type { CachedMode, ClientKind } from '../office/client';
import { parseStatus, type ContinuityStatus } from './status';

export class ApiError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly problem: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  get unreachable(): boolean {
    return this.status === 0;
  }
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

export interface ClientReport {
  kind: ClientKind;
  hostName: string;
  platform: string;
  accountType: string;
  hostVersion: string;
  cachedMode: CachedMode;
  evidence?: string;
}

export interface LoginResult {
  token: string;
  expiresAt: string;
}

export interface Api {
  login(email: string, password: string): Promise<LoginResult>;
  status(): Promise<ContinuityStatus>;
  reportClient(report: ClientReport): Promise<void>;
}

export interface ApiOptions {
  /** Where the backend is: the pane's own origin in production. */
  baseUrl: string;
  /** The bearer token for /api/me/*, or null when not signed in. */
  getToken: () => Promise<string | null>;
  fetch?: typeof fetch;
}

async function problemOf(res: Response): Promise<ApiError> {
  let problem: Record<string, unknown> | null = null;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      problem = (await res.json()) as Record<string, unknown>;
    } catch {
      problem = null;
    }
  }
  const detail = typeof problem?.detail === 'string' ? problem.detail : null;
  const title = typeof problem?.title === 'string' ? problem.title : null;
  const fallback =
    res.status === 401 ? 'Your sign-in has expired. Please sign in again.' : `The Lifeboat server answered ${res.status} ${res.statusText}.`.replace(/ \.$/, '.');
  return new ApiError(detail ?? title ?? fallback, res.status, problem);
}

export function createApi(options: ApiOptions): Api {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const base = options.baseUrl.replace(/\/+$/, '');

  async function request(method: string, path: string, body?: unknown, auth = true): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth) {
      const token = await options.getToken();
      if (!token) throw new ApiError('You are not signed in.', 401);
      headers.authorization = `Bearer ${token}`;
    }
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch {
      throw new ApiError(`The Lifeboat server (${base}) can't be reached. Check your connection; Lifeboat keeps trying.`, 0);
    }
    if (!res.ok) throw await problemOf(res);
    return res;
  }

  return {
    async login(email, password) {
      const res = await request('POST', '/api/user-auth/login', { email, password }, false);
      const body = (await res.json()) as Partial<LoginResult>;
      if (typeof body.token !== 'string' || typeof body.expiresAt !== 'string') {
        throw new ApiError('The Lifeboat server sent an unexpected sign-in answer.', res.status);
      }
      return { token: body.token, expiresAt: body.expiresAt };
    },
    async status() {
      const res = await request('GET', '/api/me/status');
      const status = parseStatus(await res.json());
      if (!status) throw new ApiError('The Lifeboat server sent an unexpected status.', res.status);
      return status;
    },
    async reportClient(report) {
      await request('POST', '/api/me/client', report);
    },
  };
}
