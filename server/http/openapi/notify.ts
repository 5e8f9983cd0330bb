/** Contract of notifications: channel settings, test sends, the send log, SMS consent, SMS replies and the cloud-password reset (server/notify/). */
import { z } from 'zod';
import { audienceQuery, confirmBody, consentBody, logQuery, resetBody, searchQuery, testBody } from '../../notify/routes';
import { settingsBody } from '../../notify/settings';
import type { Contract } from './contract';

const Settings = z
  .object({
    email: z
      .object({
        enabled: z.boolean(),
        host: z.string(),
        port: z.number().int(),
        secure: z.boolean(),
        user: z.string().nullable(),
        passwordSet: z.boolean(),
        from: z.string(),
      })
      .loose()
      .nullable(),
    sms: z
      .object({
        enabled: z.boolean(),
        provider: z.string(),
        authTokenSet: z.boolean(),
        signingSecretSet: z.boolean(),
        inboundSecretSet: z.boolean(),
        inboundUrl: z.string(),
      })
      .loose()
      .nullable(),
    phoneAttribute: z.string(),
    cloudPasswordReset: z.string(),
    updatedAt: z.string().nullable(),
    updatedBy: z.string().nullable(),
  })
  .loose()
  .meta({ id: 'NotifySettings' });
const SendResult = z.object({ sendId: z.string().nullable(), status: z.enum(['sent', 'failed', 'duplicate']), attempts: z.number().int(), reply: z.string() });
const LogEntry = z
  .object({
    id: z.string(),
    at: z.string(),
    channel: z.enum(['email', 'sms']),
    recipient: z.string(),
    purpose: z.string(),
    attempt: z.number().int(),
    status: z.string(),
  })
  .loose();
const Log = z.object({ items: z.array(LogEntry), nextCursor: z.string().nullable() });
const Consent = z
  .object({ optedIn: z.boolean(), at: z.string().nullable(), source: z.string().nullable(), phone: z.string().nullable(), phoneAttribute: z.string() })
  .loose()
  .meta({ id: 'SmsConsent' });
const UserConsent = Consent.extend({ userId: z.string(), displayName: z.string(), mail: z.string().nullable() }).loose();
const ResetAccepted = z.object({ status: z.literal('accepted'), message: z.string() });
/** Twilio posts a form (answered with empty TwiML); a generic gateway posts JSON. */
const InboundSms = z.record(z.string(), z.string());

export function registerNotify(c: Contract): void {
  c.operation({
    method: 'get',
    path: '/api/notify/settings',
    summary: 'E-mail and SMS channel settings (secrets only as “set”)',
    access: 'reader',
    ok: { status: 200, schema: Settings },
  });
  c.operation({
    method: 'put',
    path: '/api/notify/settings',
    summary: 'Change the channel settings',
    access: 'full',
    body: settingsBody,
    ok: { status: 200, schema: Settings },
  });
  c.operation({
    method: 'patch',
    path: '/api/notify/settings',
    summary: 'Change the channel settings (same as PUT)',
    access: 'full',
    body: settingsBody,
    ok: { status: 200, schema: Settings },
  });
  c.operation({
    method: 'post',
    path: '/api/notify/test',
    summary: 'Send a test message through a channel',
    access: 'full',
    body: testBody,
    ok: { status: 200, schema: SendResult },
    errors: [409],
  });
  c.operation({
    method: 'get',
    path: '/api/notify/log',
    summary: 'The send log (newest first)',
    access: 'reader',
    query: logQuery,
    ok: { status: 200, schema: Log },
  });
  c.operation({
    method: 'get',
    path: '/api/notify/consents',
    summary: 'Users’ SMS consent',
    access: 'reader',
    query: searchQuery,
    ok: { status: 200, schema: z.array(UserConsent) },
  });
  c.operation({
    method: 'put',
    path: '/api/notify/consents/:userId',
    summary: 'Record a user’s SMS consent',
    access: 'basic',
    body: consentBody,
    ok: { status: 200, schema: Consent },
  });
  c.operation({
    method: 'get',
    path: '/api/me/sms-consent',
    summary: 'The user’s own SMS consent',
    access: 'user',
    ok: { status: 200, schema: Consent },
    errors: [404],
  });
  c.operation({
    method: 'put',
    path: '/api/me/sms-consent',
    summary: 'Opt in to or out of SMS',
    access: 'user',
    body: consentBody,
    ok: { status: 200, schema: Consent },
    errors: [404],
  });
  c.operation({
    method: 'post',
    path: '/api/notify/inbound/:tenantId/sms',
    summary: 'A reply (STOP/START) from the SMS gateway, verified by signature or shared secret',
    access: 'gateway',
    body: InboundSms,
    bodyOptional: true,
    ok: [
      { status: 200, schema: z.object({}).loose(), description: 'Handled (JSON gateways)' },
      { status: 200, contentType: 'text/xml', description: 'Handled (Twilio: empty TwiML)' },
    ],
    errors: [403],
  });
  c.operation({
    method: 'post',
    path: '/api/user-auth/reset',
    summary: 'Ask for a cloud-password reset code',
    access: 'public',
    body: resetBody,
    ok: { status: 202, schema: ResetAccepted },
    errors: [429],
  });
  c.operation({
    method: 'get',
    path: '/api/notify/reset-policy',
    summary: 'For administrators: is self-service cloud-password reset off for everyone now, and which setting decides',
    access: 'reader',
    ok: {
      status: 200,
      schema: z.object({
        off: z.boolean(),
        decidedBy: z.enum(['monitor', 'event', 'tenant']),
        monitor: z.enum(['never', 'email', 'sms']).nullable(),
        tenantDefault: z.enum(['never', 'email', 'sms']),
        currentEventsAllowing: z.number().int(),
      }),
    },
  });
  c.operation({
    method: 'post',
    path: '/api/user-auth/reset/confirm',
    summary: 'Set a new cloud password with the code',
    access: 'public',
    body: confirmBody,
    ok: { status: 204, description: 'Password changed' },
    errors: [429],
  });
  c.operation({
    method: 'get',
    path: '/api/notify/sms-audience',
    summary: 'For the event form: is SMS configured, and how many of the group would get it',
    access: 'reader',
    query: audienceQuery,
    ok: {
      status: 200,
      schema: z.object({ channelConfigured: z.boolean(), groupMembers: z.number().int(), optedInWithNumber: z.number().int(), warnings: z.array(z.string()) }),
    },
  });
}
