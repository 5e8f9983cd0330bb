/** The notify capability as the rest of Lifeboat sees it (composed in server/services.ts). */
import type { AuditContext } from '../audit/context';
import type { LoginThrottle } from '../auth/throttle';
import type { DirectoryService } from '../directory/service';
import type { EventCoverage } from '../events/coverage';
import type { TenantService } from '../tenants/service';
import type { UserAuthService } from '../user-auth/service';
import { createConsentService } from './consent';
import { createEventSms } from './event-sms';
import type { ResetChannel } from './model';
import { createResetService } from './reset';
import { createSmsRuns } from './sms-runs';
import { createHash, timingSafeEqual } from 'node:crypto';
import { forbidden } from '../http/problem';
import { twilioSignature } from './providers';
import { createNotifyCore, type NotifyCoreOptions } from './service';

export type { SendRequest, SendResult, NotifyRetryPolicy } from './service';

export interface NotifyOptions extends NotifyCoreOptions {
  directory: DirectoryService;
  tenants: TenantService;
  /** Who events cover: the start/end SMS and the reset policy ask it. */
  events: EventCoverage;
  throttle: LoginThrottle;
  userAuth: UserAuthService;
  secret: string;
  /** A continuity monitor record's own Allow Cloud Password Reset, which overrides events and tenant. */
  resetOverride?: (tenantId: string) => Promise<ResetChannel | null>;
  /** The event-SMS loop's longest sleep. */
  pollMs?: number;
}

export function createNotifyService(options: NotifyOptions) {
  const now = options.now ?? (() => new Date());
  const core = createNotifyCore(options);
  const phoneAttribute = async (tenantId: string) => (await core.loadSettings(tenantId))?.phoneAttribute ?? 'mobilePhone';
  const consents = createConsentService({ models: options.models, directory: options.directory, audit: options.audit, phoneAttribute, now });
  const eventSms = createEventSms({
    core,
    consents,
    directory: options.directory,
    events: options.events,
    models: options.models,
    logger: options.logger,
    now,
    pollMs: options.pollMs,
  });
  const reset = createResetService({
    core,
    consents,
    directory: options.directory,
    tenants: options.tenants,
    events: options.events,
    models: options.models,
    throttle: options.throttle,
    userAuth: options.userAuth,
    audit: options.audit,
    secret: options.secret,
    now,
    monitorOverride: options.resetOverride,
  });
  const smsRuns = createSmsRuns({ core, consents, directory: options.directory, models: options.models });
  return {
    ...core,
    phoneAttribute,
    consents,
    eventSms,
    smsRuns,
    reset,
    /**
     * A reply posted by the SMS gateway (STOP / START). Accepted only with a valid Twilio signature
     * (HMAC-SHA1 with the tenant's auth token over the public URL and the form fields) or the tenant's
     * shared inbound secret; anything else is refused alike (403), also for unknown tenants.
     */
    async inboundSms(
      tenantId: string,
      input: { query: string; params: Record<string, string>; twilioSignature: string | null; sharedSecret: string | null },
      context: AuditContext,
    ) {
      const settings = await core.loadSettings(tenantId);
      const sms = settings?.sms;
      const same = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
      let verified = false;
      if (sms?.provider === 'twilio' && sms.authTokenSealed && input.twilioSignature) {
        const expected = twilioSignature(core.open(tenantId, 'sms.authToken', sms.authTokenSealed)!, core.inboundUrl(tenantId) + input.query, input.params);
        verified = same(expected, input.twilioSignature);
      }
      if (!verified && sms?.inboundSecretSealed && input.sharedSecret)
        verified = same(core.open(tenantId, 'sms.inboundSecret', sms.inboundSecretSealed)!, input.sharedSecret);
      if (!verified) {
        core.log.warn({ tenantId, ip: context.ip }, 'inbound SMS refused: no valid signature or shared secret');
        throw forbidden('This request is not signed by the SMS gateway configured for this tenant.');
      }
      const from = input.params.From ?? input.params.from ?? '';
      const text = input.params.Body ?? input.params.text ?? input.params.body ?? '';
      const result = await consents.inbound(tenantId, from, text, context);
      core.log.info({ tenantId, ...result }, 'inbound SMS handled');
      return result;
    },
    /** Starts the event-SMS loop (due start/end SMS, takeover of dead senders' claims). */
    start(): void {
      core.resume();
      eventSms.start();
    },
    async stop(): Promise<void> {
      await core.stop();
      await eventSms.stop();
      await reset.settled();
    },
  };
}
export type NotifyService = ReturnType<typeof createNotifyService>;
