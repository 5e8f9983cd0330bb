/** Reading and validating a tenant's notification settings (the admin API's body). */
import { emailAddress, isHostName } from '../http/addresses';
import { z } from 'zod';
import { RESET_CHANNELS, SMS_PROVIDERS, type NotifySettingsRecord } from './model';
import { TWILIO_API } from './providers';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** https, or http to this machine only (a local gateway or a test stand-in). */
const gatewayUrl = z
  .string()
  .trim()
  .max(2000)
  .refine((raw) => {
    try {
      const url = new URL(raw);
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
    } catch {
      return false;
    }
  }, 'must be an https:// URL (http:// only to localhost)');

const secret = z.string().min(1, 'must not be empty').max(1000);
const address = emailAddress();

export const settingsBody = z
  .object({
    email: z
      .object({
        enabled: z.boolean().optional(),
        host: z
          .string()
          .trim()
          .min(1, 'is required')
          .max(255)
          .refine((host) => isHostName(host), 'must be a host name or IP address'),
        port: z.number().int().min(1).max(65535),
        secure: z.boolean().optional(),
        user: z.string().max(320).nullable().optional(),
        /** Write-only: omitted keeps the stored one, null removes it. */
        password: secret.nullable().optional(),
        from: address,
      })
      .strict()
      .nullable()
      .optional(),
    sms: z
      .object({
        enabled: z.boolean().optional(),
        provider: z.enum(SMS_PROVIDERS),
        baseUrl: gatewayUrl.nullable().optional(),
        accountSid: z
          .string()
          .trim()
          .min(1)
          .max(64)
          .regex(/^[A-Za-z0-9]+$/, 'must be letters and digits')
          .nullable()
          .optional(),
        authToken: secret.nullable().optional(),
        from: z.string().trim().min(1).max(64).nullable().optional(),
        url: gatewayUrl.nullable().optional(),
        signingSecret: secret.nullable().optional(),
        inboundSecret: z.string().min(16, 'must be at least 16 characters').max(1000).nullable().optional(),
      })
      .strict()
      .nullable()
      .optional(),
    phoneAttribute: z
      .string()
      .trim()
      .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be a directory attribute name such as mobilePhone or businessPhones')
      .optional(),
    cloudPasswordReset: z.enum(RESET_CHANNELS).optional(),
  })
  .strict();
export type SettingsBody = z.infer<typeof settingsBody>;

export function settingsView(record: NotifySettingsRecord | null, inboundUrl: string) {
  const email = record?.email ?? null;
  const sms = record?.sms ?? null;
  return {
    email: email
      ? {
          enabled: email.enabled,
          host: email.host,
          port: email.port,
          secure: email.secure,
          user: email.user,
          passwordSet: Boolean(email.passwordSealed),
          from: email.from,
        }
      : null,
    sms: sms
      ? {
          enabled: sms.enabled,
          provider: sms.provider,
          baseUrl: sms.provider === 'twilio' ? (sms.baseUrl ?? TWILIO_API) : null,
          accountSid: sms.accountSid,
          authTokenSet: Boolean(sms.authTokenSealed),
          from: sms.from,
          url: sms.url,
          signingSecretSet: Boolean(sms.signingSecretSealed),
          inboundSecretSet: Boolean(sms.inboundSecretSealed),
          /** Where the gateway posts replies (STOP). */
          inboundUrl,
        }
      : null,
    phoneAttribute: record?.phoneAttribute ?? 'mobilePhone',
    cloudPasswordReset: record?.cloudPasswordReset ?? 'never',
    updatedAt: record?.updatedAt?.toISOString() ?? null,
    updatedBy: record?.updatedBy ?? null,
  };
}
export type SettingsView = ReturnType<typeof settingsView>;

/** A directory user's SMS number under the tenant's attribute setting (first entry of a list attribute). */
export function phoneOf(user: object | null, attribute: string): string | null {
  if (!user) return null;
  const value = (user as Record<string, unknown>)[attribute];
  const first = Array.isArray(value) ? value.find((v) => typeof v === 'string' && v.trim()) : value;
  return typeof first === 'string' && first.trim() ? first.trim() : null;
}

/** Phone numbers compared by their digits (a reply's From is E.164; the directory may have spaces). */
export const samePhone = (a: string | null, b: string | null) =>
  Boolean(a && b && a.replace(/[^\d]/g, '') === b.replace(/[^\d]/g, '') && a.replace(/[^\d]/g, '').length >= 5);
