/**
 * The channels' wire protocols. Each send attempt ends in one AttemptResult; the service decides
 * about retries from it (5xx, 429 and network errors are retryable, other 4xx are not).
 */
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';
import { guardedFetch } from '../http/guarded-fetch';
import { PrivateTargetError, type TargetGuard } from '../http/private-target';

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

/**
 * What admins see of a provider's answer: the status and a short reason (a JSON `message`/`error`
 * field), printable characters only. Never the raw body: a URL pointed at an internal service must
 * not turn the send log into a way to read it.
 */
export function shortReason(status: number, body: string): string {
  let reason = '';
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    // A message id (Twilio's `sid`) is what an admin needs to trace a sent message with the provider.
    const field = [json.message, json.error, json.error_description, json.detail, json.sid, json.id].find((v) => typeof v === 'string') as string | undefined;
    reason = (field ?? '').replace(/[^\w .,:;'()/+-]/g, '').slice(0, 120);
  } catch {
    // not JSON: the status says enough
  }
  return `${status}${reason ? ` ${reason}` : ''}`;
}

async function httpAttempt(
  guard: TargetGuard,
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
  now: () => Date,
  signal?: AbortSignal,
): Promise<AttemptResult> {
  let res;
  try {
    res = await guardedFetch(guard, url, {
      ...init,
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    if (err instanceof PrivateTargetError) return { ok: false, retryable: false, retryAfterMs: null, reply: `refused: ${err.message}` };
    const code = (err as { code?: string }).code;
    return { ok: false, retryable: true, retryAfterMs: null, reply: `network error${code && /^E[A-Z]+$/.test(code) ? `: ${code}` : ''}` };
  }
  const reply = shortReason(res.status, res.text).slice(0, REPLY_LIMIT);
  if (res.status >= 200 && res.status < 300) return { ok: true, retryable: false, retryAfterMs: null, reply };
  const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
  return { ok: false, retryable, retryAfterMs: retryable ? parseRetryAfter(res.header('retry-after'), now()) : null, reply };
}

/** Twilio Messages API: form-encoded To/From/Body, HTTP basic auth with the account SID and auth token. */
export function sendTwilio(guard: TargetGuard, settings: TwilioSettings, message: SmsMessage, now: () => Date, signal?: AbortSignal): Promise<AttemptResult> {
  const url = `${settings.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`;
  const body = new URLSearchParams({ To: message.to, From: settings.from, Body: message.text });
  return httpAttempt(
    guard,
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
export function sendWebhook(guard: TargetGuard, settings: WebhookSettings, message: SmsMessage, now: () => Date, signal?: AbortSignal): Promise<AttemptResult> {
  const body = JSON.stringify({ to: message.to, text: message.text, purpose: message.purpose, id: message.id });
  const timestamp = String(Math.floor(now().getTime() / 1000));
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-Lifeboat-Timestamp': timestamp };
  if (settings.signingSecret) headers['X-Lifeboat-Signature'] = webhookSignature(settings.signingSecret, timestamp, body);
  return httpAttempt(guard, settings.url, { method: 'POST', headers, body }, now, signal);
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

/**
 * A pooled SMTP transport for one tenant's relay; file and URL access (attachments by path) disabled.
 * `address` is the relay's address as checked by the SSRF guard (pinned: no second resolution); TLS
 * still verifies the certificate against the configured host name.
 */
export function emailTransport(settings: EmailSettings, hostname: string, address: string = settings.host): Transporter {
  return nodemailer.createTransport({
    host: address,
    port: settings.port,
    tls: { servername: isIP(settings.host) ? undefined : settings.host },
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
