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

/** What the pane acknowledges having shown: the status's seq and its active events. */
export interface SeenReceipt {
  seq: number;
  eventIds: string[];
  client?: string;
}

export interface Api {
  login(email: string, password: string): Promise<LoginResult>;
  status(): Promise<ContinuityStatus>;
  reportClient(report: ClientReport): Promise<void>;
  /** `POST /api/me/status/seen`: the receipt of an active status when the socket is down. */
  seen(receipt: SeenReceipt): Promise<void>;
  /** The continuity mailbox, newest first (`GET /api/me/mailbox`). */
  mailbox(folder: MailFolder, cursor?: string | null): Promise<MailboxPage>;
  /** `GET /api/me/search`: both folders, newest first; every word must match sender, recipients, subject or text. */
  search(query: string, cursor?: string | null): Promise<MailboxPage>;
  /** `GET /api/me/people`: directory users and groups for recipient autocomplete. */
  people(query: string): Promise<Person[]>;
  /** `GET /api/me/sent-items`: how many of the user's sent messages are in their Exchange Sent Items. */
  sentItems(): Promise<SentItemsCopy>;
  /** One message with its sanitised HTML, attachments and (sent mail) delivery statuses. */
  message(id: string): Promise<MailMessage>;
  /** An attachment's bytes (a Blob the pane offers for download). */
  attachment(id: string, index: number): Promise<Blob>;
  /** `POST /api/me/mailbox/:id/report-phishing`: tells the admins; once per message (a repeat says so). */
  reportPhishing(id: string, comment?: string): Promise<{ alreadyReported: boolean }>;
  /** `POST /api/me/messages`: the same idempotency key sends once, however often it is retried. */
  send(message: OutgoingMessage, idempotencyKey: string): Promise<MailMessage>;
  /** The user's SMS alerts consent and number (`GET /api/me/sms-consent`). */
  smsConsent(): Promise<SmsConsent>;
  setSmsConsent(optedIn: boolean): Promise<SmsConsent>;
  /** Asks for a password reset code; the answer is the same whether the account can reset or not. */
  requestReset(email: string): Promise<void>;
  /** Sets a new cloud password with the code (204); errors carry the field in `problem.errors`. */
  confirmReset(email: string, code: string, password: string): Promise<void>;
}

export interface SmsConsent {
  optedIn: boolean;
  at: string | null;
  source: 'user' | 'admin' | 'sms' | null;
  phone: string | null;
  phoneAttribute: string;
}

export type MailFolder = 'inbox' | 'sent';

export interface Person {
  name: string;
  address: string;
  kind: 'user' | 'group';
}

export interface MailSummary {
  id: string;
  folder: MailFolder;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  date: string;
  receivedAt: string;
  preview: string;
  viaGroup: string | null;
  hasAttachments: boolean;
  /** Protection's word on an inbound copy (the list carries verdict and action only). */
  security?: Pick<MessageSecurity, 'verdict' | 'action'> | null;
}

export interface MailboxPage {
  items: MailSummary[];
  nextCursor: string | null;
}

export interface Delivery {
  recipient: string;
  state: 'queued' | 'sent' | 'failed';
  attempts: number;
  lastReply: string | null;
  nextAttemptAt: string | null;
}

/** What protection decided about an inbound message (`GET /api/me/mailbox/:id`; absent when not judged). */
export interface MessageSecurity {
  verdict: 'clean' | 'spam' | 'phishing' | 'malware' | 'spoof' | 'impersonation' | 'unscanned' | null;
  /** `tag`: delivered with a warning. */
  action: string | null;
  policyId: string | null;
  auth: { spf: string; dkim: string; dmarc: string; arc: string } | null;
  score: number | null;
  reasons: string[];
}

export interface MailMessage extends MailSummary {
  html: string | null;
  /** The sender is outside the organisation (inbox messages). */
  external?: boolean;
  security?: MessageSecurity | null;
  text: string;
  attachments: { index: number; filename: string; contentType: string; size: number }[];
  deliveries?: Delivery[];
}

export interface OutgoingMessage {
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  html: string;
  attachments: { filename: string; contentType: string; contentBase64: string }[];
  /** The mailbox id of the message a reply answers (the server threads the reply from it). */
  inReplyTo?: string;
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
    res.status === 401
      ? 'Your sign-in has expired. Please sign in again.'
      : `The Lifeboat server answered ${res.status} ${res.statusText}.`.replace(/ \.$/, '.');
  return new ApiError(detail ?? title ?? fallback, res.status, problem);
}

/** What was copied of the user's Lifeboat-sent mail into their Exchange Sent Items (server/sent-items). */
export interface SentItemsCopy {
  copied: number;
  lastCopiedAt: string | null;
  state: string;
  unavailableReason: string | null;
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
    async seen(receipt) {
      await request('POST', '/api/me/status/seen', receipt);
    },
    async mailbox(folder, cursor) {
      const q = new URLSearchParams({ folder });
      if (cursor) q.set('cursor', cursor);
      const res = await request('GET', `/api/me/mailbox?${q}`);
      const body = (await res.json()) as Partial<MailboxPage>;
      if (!Array.isArray(body.items)) throw new ApiError('The Lifeboat server sent an unexpected mailbox page.', res.status);
      return { items: body.items, nextCursor: typeof body.nextCursor === 'string' ? body.nextCursor : null };
    },
    async search(query, cursor) {
      const q = new URLSearchParams({ q: query });
      if (cursor) q.set('cursor', cursor);
      const res = await request('GET', `/api/me/search?${q}`);
      const body = (await res.json()) as Partial<MailboxPage>;
      if (!Array.isArray(body.items)) throw new ApiError('The Lifeboat server sent an unexpected search answer.', res.status);
      return { items: body.items, nextCursor: typeof body.nextCursor === 'string' ? body.nextCursor : null };
    },
    async people(query) {
      const res = await request('GET', `/api/me/people?${new URLSearchParams({ q: query })}`);
      const body = (await res.json()) as { items?: Person[] };
      return Array.isArray(body.items) ? body.items : [];
    },
    async sentItems() {
      const res = await request('GET', '/api/me/sent-items');
      return (await res.json()) as SentItemsCopy;
    },
    async message(id) {
      const res = await request('GET', `/api/me/mailbox/${encodeURIComponent(id)}`);
      return (await res.json()) as MailMessage;
    },
    async attachment(id, index) {
      const res = await request('GET', `/api/me/mailbox/${encodeURIComponent(id)}/attachments/${index}`);
      return res.blob();
    },
    async reportPhishing(id, comment = '') {
      const res = await request('POST', `/api/me/mailbox/${encodeURIComponent(id)}/report-phishing`, { comment });
      return (await res.json()) as { alreadyReported: boolean };
    },
    async send(message, idempotencyKey) {
      const res = await request('POST', '/api/me/messages', { ...message, idempotencyKey });
      return (await res.json()) as MailMessage;
    },
    async smsConsent() {
      const res = await request('GET', '/api/me/sms-consent');
      return (await res.json()) as SmsConsent;
    },
    async setSmsConsent(optedIn) {
      const res = await request('PUT', '/api/me/sms-consent', { optedIn });
      return (await res.json()) as SmsConsent;
    },
    async requestReset(email) {
      await request('POST', '/api/user-auth/reset', { email }, false);
    },
    async confirmReset(email, code, password) {
      await request('POST', '/api/user-auth/reset/confirm', { email, code, password }, false);
    },
  };
}
