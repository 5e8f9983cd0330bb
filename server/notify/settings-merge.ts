/**
 * Applying an admin's settings body to a tenant's stored notification settings: what is kept, what is
 * cleared, which secrets are sealed anew, and which fields are still missing. Pure (sealing is passed in);
 * the service stores the result and audits it.
 */
import type { FieldError } from '../http/problem';
import type { NotifySettingsRecord } from './model';
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
    email = {
      enabled: b.enabled ?? email?.enabled ?? true,
      host: b.host,
      port: b.port,
      secure: b.secure ?? b.port === 465,
      user: b.user === undefined ? (email?.user ?? null) : b.user || null,
      passwordSealed: sealOrKeep(seal, 'email.password', b.password, email?.passwordSealed),
      from: b.from.toLowerCase(),
    };
    if (email.user && !email.passwordSealed) errors.push({ path: 'email.password', message: 'is required when a user name is set' });
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
    sms = {
      enabled: b.enabled ?? sms?.enabled ?? true,
      provider: b.provider,
      baseUrl: keep(b.baseUrl, same?.baseUrl)?.replace(/\/+$/, '') ?? null,
      accountSid: keep(b.accountSid, same?.accountSid),
      authTokenSealed: sealOrKeep(seal, 'sms.authToken', b.authToken, same?.authTokenSealed),
      from: keep(b.from, same?.from),
      url: keep(b.url, same?.url),
      signingSecretSealed: sealOrKeep(seal, 'sms.signingSecret', b.signingSecret, same?.signingSecretSealed),
      inboundSecretSealed: sealOrKeep(seal, 'sms.inboundSecret', b.inboundSecret, sms?.inboundSecretSealed),
    };
    if (sms.provider === 'twilio') {
      if (!sms.accountSid) errors.push({ path: 'sms.accountSid', message: 'is required for Twilio' });
      if (!sms.authTokenSealed) errors.push({ path: 'sms.authToken', message: 'is required for Twilio' });
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
