/**
 * Where a tenant's notifications go, as the security rules see it: every destination (SMTP relay,
 * Twilio base URL, webhook URL) must pass the SSRF guard, and a stored secret never follows a changed
 * destination (it must be entered again in the same request).
 */
import type { FieldError } from '../http/problem';
import type { TargetGuard } from '../http/private-target';
import type { NotifySettingsRecord } from './model';

export const reenter = (path: string, moved: string): FieldError => ({
  path,
  message: `must be entered again: the ${moved} changed, and a stored secret is never sent to a new destination`,
});

/** Every configured destination resolved and checked against the SSRF guard; errors name the field. */
export async function destinationErrors(guard: TargetGuard, next: Pick<NotifySettingsRecord, 'email' | 'sms'>): Promise<FieldError[]> {
  const targets: [string, string | null | undefined][] = [
    ['email.host', next.email?.host],
    ['sms.baseUrl', next.sms?.provider === 'twilio' ? next.sms.baseUrl : null],
    ['sms.url', next.sms?.provider === 'webhook' ? next.sms.url : null],
  ];
  const errors: FieldError[] = [];
  for (const [path, value] of targets) {
    if (!value) continue;
    const host = path === 'email.host' ? value : new URL(value).hostname;
    const why = await guard.refusal(host);
    if (why) errors.push({ path, message: `is not allowed: ${why} (an operator may allow it in LIFEBOAT_ALLOWED_PRIVATE_TARGETS)` });
  }
  return errors;
}
