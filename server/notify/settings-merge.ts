/**
 * Applying an admin's settings body to a tenant's stored notification settings: what is kept, what is
 * cleared, which secrets are sealed anew, and which fields are still missing. Pure (sealing is passed in);
 * the service stores the result and audits it.
 */
import type { FieldError } from '../http/problem';
import { reenter } from './destinations';
import type { NotifySettingsRecord } from './model';
import { TWILIO_API } from './providers';
import type { SettingsBody } from './settings';

type Seal = (field: string, plain: string) => string;

/** A secret left out of the body keeps its sealed value; null clears it; a new value is sealed. */
function sealOrKeep(seal: Seal, field: string, incoming: string | null | undefined, stored: string | null | undefined): string | null {
  if (incoming === undefined) return stored ?? null;
  return incoming === null ? null : seal(field, incoming);
}

/** The stored settings with an admin's body applied, the field errors left, and which secrets it changed (for the audit). */
export function mergeSettings(
  tenantId: string,
  current: NotifySettingsRecord | null,
  body: SettingsBody,
  seal: Seal,
): { next: Omit<NotifySettingsRecord, 'updatedAt' | 'updatedBy'>; errors: FieldError[]; secretsChanged: string[] } {
  const errors: FieldError[] = [];
  const secretsChanged: string[] = [];
  const track = (field: string, value: unknown) => value !== undefined && secretsChanged.push(field);
  let email = current?.email ?? null;
  if (body.email === null) email = null;
  else if (body.email) {
    const b = body.email;
    track('email.password', b.password);
    // A stored secret never follows a changed destination: it must be entered again with it.
    const hostMoved = Boolean(email && email.host.toLowerCase() !== b.host.toLowerCase());
    if (hostMoved && b.password === undefined && email?.passwordSealed) errors.push(reenter('email.password', 'host'));
    const previousPassword = hostMoved ? null : email?.passwordSealed;
    email = {
      enabled: b.enabled ?? email?.enabled ?? true,
      host: b.host,
      port: b.port,
      secure: b.secure ?? b.port === 465,
      user: b.user === undefined ? (email?.user ?? null) : b.user || null,
      passwordSealed: sealOrKeep(seal, 'email.password', b.password, previousPassword),
      from: b.from.toLowerCase(),
    };
    if (email.user && !email.passwordSealed && !errors.some((e) => e.path === 'email.password'))
      errors.push({ path: 'email.password', message: 'is required when a user name is set' });
  }
  let sms = current?.sms ?? null;
  if (body.sms === null) sms = null;
  else if (body.sms) {
    const b = body.sms;
    const same = sms?.provider === b.provider ? sms : null;
    const keep = <T>(incoming: T | null | undefined, stored: T | null | undefined) => (incoming === undefined ? (stored ?? null) : incoming);
    track('sms.authToken', b.authToken);
    track('sms.signingSecret', b.signingSecret);
    track('sms.inboundSecret', b.inboundSecret);
    const base = (url: string | null | undefined) => (url ?? TWILIO_API).replace(/\/+$/, '');
    const baseMoved = Boolean(same && b.baseUrl !== undefined && base(b.baseUrl) !== base(same.baseUrl));
    const urlMoved = Boolean(same && b.url !== undefined && (b.url ?? '') !== (same.url ?? ''));
    if (baseMoved && b.authToken === undefined && same?.authTokenSealed) errors.push(reenter('sms.authToken', 'baseUrl'));
    if (urlMoved && b.signingSecret === undefined && same?.signingSecretSealed) errors.push(reenter('sms.signingSecret', 'url'));
    sms = {
      enabled: b.enabled ?? sms?.enabled ?? true,
      provider: b.provider,
      baseUrl: keep(b.baseUrl, same?.baseUrl)?.replace(/\/+$/, '') ?? null,
      accountSid: keep(b.accountSid, same?.accountSid),
      authTokenSealed: sealOrKeep(seal, 'sms.authToken', b.authToken, baseMoved ? null : same?.authTokenSealed),
      from: keep(b.from, same?.from),
      url: keep(b.url, same?.url),
      signingSecretSealed: sealOrKeep(seal, 'sms.signingSecret', b.signingSecret, urlMoved ? null : same?.signingSecretSealed),
      inboundSecretSealed: sealOrKeep(seal, 'sms.inboundSecret', b.inboundSecret, sms?.inboundSecretSealed),
    };
    if (sms.provider === 'twilio') {
      if (!sms.accountSid) errors.push({ path: 'sms.accountSid', message: 'is required for Twilio' });
      if (!sms.authTokenSealed && !errors.some((e) => e.path === 'sms.authToken')) errors.push({ path: 'sms.authToken', message: 'is required for Twilio' });
      if (!sms.from) errors.push({ path: 'sms.from', message: 'is required for Twilio (a number or messaging sender)' });
    } else if (!sms.url) errors.push({ path: 'sms.url', message: 'is required for a webhook' });
  }
  return {
    next: {
      _id: tenantId,
      email,
      sms,
      phoneAttribute: body.phoneAttribute ?? current?.phoneAttribute ?? 'mobilePhone',
      cloudPasswordReset: body.cloudPasswordReset ?? current?.cloudPasswordReset ?? 'never',
    },
    errors,
    secretsChanged,
  };
}
