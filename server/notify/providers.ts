/**
 * The channels' wire protocols. Each send attempt ends in one AttemptResult; the service decides
 * about retries from it (5xx, 429 and network errors are retryable, other 4xx are not).
 */
import { createHmac } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';

export interface AttemptResult {
  ok: boolean;
  retryable: boolean;
  /** From a 429/503 Retry-After header. */
  retryAfterMs: number | null;
  /** What the provider answered, for the send log (never contains our credentials). */
  reply: string;
}

export interface TwilioSettings {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
}

export interface WebhookSettings {
  url: string;
  signingSecret: string | null;
}

export interface SmsMessage {
  to: string;
  text: string;
  purpose: string;
  id: string;
}

export const TWILIO_API = 'https://api.twilio.com';
const REPLY_LIMIT = 500;
const TIMEOUT_MS = 15_000;

/** Retry-After: delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

async function httpAttempt(url: string, init: RequestInit, now: () => Date, signal?: AbortSignal): Promise<AttemptResult> {
  let res: Response;
  try {
    res = await fetch(url, {
      ...init,
      redirect: 'error',
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, retryable: true, retryAfterMs: null, reply: `network error: ${cause?.code ?? cause?.message ?? (err as Error).message}` };
  }
  const body = (await res.text().catch(() => '')).slice(0, REPLY_LIMIT);
  const reply = `${res.status} ${body}`.trim();
  if (res.ok) return { ok: true, retryable: false, retryAfterMs: null, reply };
  const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
  return { ok: false, retryable, retryAfterMs: retryable ? parseRetryAfter(res.headers.get('retry-after'), now()) : null, reply };
}

/** Twilio Messages API: form-encoded To/From/Body, HTTP basic auth with the account SID and auth token. */
export function sendTwilio(settings: TwilioSettings, message: SmsMessage, now: () => Date, signal?: AbortSignal): Promise<AttemptResult> {
  const url = `${settings.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`;
  const body = new URLSearchParams({ To: message.to, From: settings.from, Body: message.text });
  return httpAttempt(
    url,
    {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: body.toString(),
    },
    now,
    signal,
  );
}

/** `sha256=<hex>` over `<timestamp>.<body>`: the receiver recomputes it with the shared key. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Generic JSON webhook: POST {to, text, purpose, id}; signed when a key is set. */
export function sendWebhook(settings: WebhookSettings, message: SmsMessage, now: () => Date, signal?: AbortSignal): Promise<AttemptResult> {
  const body = JSON.stringify({ to: message.to, text: message.text, purpose: message.purpose, id: message.id });
  const timestamp = String(Math.floor(now().getTime() / 1000));
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-Lifeboat-Timestamp': timestamp };
  if (settings.signingSecret) headers['X-Lifeboat-Signature'] = webhookSignature(settings.signingSecret, timestamp, body);
  return httpAttempt(settings.url, { method: 'POST', headers, body }, now, signal);
}

/** Twilio's request signature: base64 HMAC-SHA1 of the full URL followed by the sorted form fields. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

export interface EmailSettings {
  host: string;
  port: number;
  secure: boolean;
  user: string | null;
  password: string | null;
  from: string;
}

/** A pooled SMTP transport for one tenant's relay; file and URL access (attachments by path) disabled. */
export function emailTransport(settings: EmailSettings, hostname: string): Transporter {
  return nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    pool: true,
    maxConnections: 2,
    name: hostname,
    auth: settings.user ? { user: settings.user, pass: settings.password ?? '' } : undefined,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
}

interface SmtpError {
  responseCode?: number;
  response?: string;
  code?: string;
  message: string;
}

export async function sendEmail(transport: Transporter, from: string, mail: { to: string; subject: string; text: string }): Promise<AttemptResult> {
  try {
    const info = await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text });
    return { ok: true, retryable: false, retryAfterMs: null, reply: String(info.response ?? 'accepted').slice(0, REPLY_LIMIT) };
  } catch (err) {
    const e = err as SmtpError;
    if (e.responseCode) {
      // 4xx: the relay asks us to come back; 5xx: it refuses for good.
      return { ok: false, retryable: e.responseCode < 500, retryAfterMs: null, reply: (e.response ?? `${e.responseCode} ${e.message}`).slice(0, REPLY_LIMIT) };
    }
    return { ok: false, retryable: true, retryAfterMs: null, reply: `network error: ${e.code ?? e.message}`.slice(0, REPLY_LIMIT) };
  }
}
