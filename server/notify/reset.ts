/**
 * Self-service cloud-password reset. A user asks with their address; when the policy allows it (a
 * continuity monitor's own option, else the current event's `cloudPasswordReset` for one of the
 * user's groups, else the tenant default), a
 * one-time code goes to their alternate address (`otherMails`) by email or to their mobile by SMS
 * (only when opted in). The code is stored hashed, expires after 15 minutes and allows 5 tries.
 *
 * No enumeration: the request is answered alike (202, same body) whether the account exists, the
 * policy allows it or a destination is known; the code is sent in the background, so the answer
 * takes the same time. Both steps are throttled per address and per client IP.
 */
import { domainOf, isEmailAddress } from '../http/addresses';
import type { AuditContext } from '../audit/context';
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { AuditService } from '../audit/service';
import { passwordProblem } from '../auth/password';
import { MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, type LoginThrottle, type ThrottleClaim } from '../auth/throttle';
import type { DirectoryUser } from '../directory/model';
import type { DirectoryService } from '../directory/service';
import type { EventCoverage } from '../events/coverage';
import { HttpProblem, tooManyRequests, unprocessable } from '../http/problem';
import type { TenantService } from '../tenants/service';
import type { UserAuthService } from '../user-auth/service';
import type { ConsentService } from './consent';
import type { NotifyModels, ResetChannel, ResetCodeRecord } from './model';
import { phoneOf } from './settings';
import type { NotifyCore } from './service';

export const RESET_CODE_MINUTES = 15;
export const RESET_MAX_ATTEMPTS = 5;
export const RESET_ACCEPTED = {
  status: 'accepted',
  message:
    'If this address belongs to an account that may reset its cloud password here, a code is on its way to the alternate address or mobile phone on file.',
};

const invalidCode = () =>
  new HttpProblem(400, 'Bad Request', 'The code is not valid or has expired. Ask for a new one.', {
    errors: [{ path: 'code', message: 'is not valid or has expired' }],
  });

export function createResetService(deps: {
  core: NotifyCore;
  consents: ConsentService;
  directory: DirectoryService;
  tenants: TenantService;
  events: EventCoverage;
  models: NotifyModels;
  throttle: LoginThrottle;
  userAuth: UserAuthService;
  audit: AuditService;
  secret: string;
  now: () => Date;
  /** A continuity monitor record's own option, which overrides the events' and the tenant's. */
  monitorOverride?: (tenantId: string) => Promise<ResetChannel | null>;
}) {
  const { core, consents, directory, tenants, events, models, throttle, audit, now } = deps;
  const hashKey = createHmac('sha256', deps.secret).update('lifeboat password reset codes v1').digest();
  const hashCode = (tenantId: string, userId: string, code: string) =>
    createHmac('sha256', hashKey).update(`${tenantId}:${userId}:${code}`).digest('base64url');

  /** Every reset step is audited the same way: the user acting on their own account, by the address they gave. */
  async function auditReset(
    found: { tenantId: string; user: DirectoryUser },
    address: string,
    action: string,
    after: Record<string, unknown>,
    context: AuditContext,
  ): Promise<void> {
    await audit.record({
      tenantId: found.tenantId,
      category: 'security',
      action,
      actor: { type: 'user', id: found.user.id, email: address },
      target: { type: 'user', id: found.user.id, label: address },
      after,
      ...context,
    });
  }

  async function find(address: string): Promise<{ tenantId: string; user: DirectoryUser } | null> {
    const tenant = await tenants.byDomain(domainOf(address));
    if (!tenant) return null;
    const user = await directory.findUserByAddress(tenant.id, address);
    return user ? { tenantId: tenant.id, user } : null;
  }

  /** A monitor's own option first; then the current events covering the user ('never' wins, then the first email/sms); else the tenant. */
  async function policyFor(tenantId: string, userId: string): Promise<ResetChannel> {
    const fromMonitor = (await deps.monitorOverride?.(tenantId)) ?? null;
    if (fromMonitor) return fromMonitor;
    const current = await events.ofUser(tenantId, userId, { at: now() });
    const explicit = current.map((e) => e.cloudPasswordReset).filter((p) => p !== 'inherit');
    if (explicit.includes('never')) return 'never';
    if (explicit.length) return explicit[0] as ResetChannel;
    return (await core.loadSettings(tenantId))?.cloudPasswordReset ?? 'never';
  }

  async function destination(tenantId: string, user: DirectoryUser, channel: ResetChannel): Promise<string | null> {
    if (channel === 'email') return user.otherMails.find(isEmailAddress) ?? null;
    if (channel === 'sms') {
      if (!(await consents.isOptedIn(tenantId, user.id))) return null;
      return phoneOf(user, (await core.loadSettings(tenantId))?.phoneAttribute ?? 'mobilePhone');
    }
    return null;
  }

  /**
   * Counts a reset step before anything is checked (an insert-claimed slot, server/auth/throttle.ts):
   * per client address (their own budget, so resets do not use up the sign-in one) and per account from
   * anywhere (a code can be guessed only so often, however many addresses the guesser has).
   */
  async function claimAttempt(account: string, ip: string | null): Promise<ThrottleClaim & { claimed: string[] }> {
    const claim = await throttle.claim(
      [...(ip ? [{ key: `reset-address:${ip}`, limit: MAX_FAILURES_PER_ADDRESS }] : []), { key: account, limit: MAX_FAILURES_PER_ACCOUNT }],
      account,
    );
    if ('retryAfter' in claim) throw tooManyRequests(claim.retryAfter, 'Too many password reset attempts. Try again later.');
    return claim;
  }

  async function handle(address: string, context: AuditContext): Promise<void> {
    const found = await find(address);
    const channel = found ? await policyFor(found.tenantId, found.user.id) : 'never';
    const to = found && channel !== 'never' ? await destination(found.tenantId, found.user, channel) : null;
    if (!found || !to || channel === 'never') {
      if (found) {
        await auditReset(
          found,
          address,
          'user.cloudPassword.resetRefused',
          {
            reason:
              channel === 'never'
                ? 'self-service reset is off for this user'
                : `no ${channel === 'email' ? 'alternate address' : 'opted-in mobile number'} on file`,
          },
          context,
        );
      }
      return;
    }
    const code = String(randomInt(0, 100_000_000)).padStart(8, '0');
    const record: ResetCodeRecord = {
      _id: `${found.tenantId}:${found.user.id}`,
      tenantId: found.tenantId,
      userId: found.user.id,
      codeHash: hashCode(found.tenantId, found.user.id, code),
      channel: channel as 'email' | 'sms',
      expiresAt: new Date(now().getTime() + RESET_CODE_MINUTES * 60_000),
      attempts: 0,
      createdAt: now(),
    };
    // A new code replaces the previous one.
    await models.resetCodes.replaceOne({ _id: record._id }, record, { upsert: true });
    await auditReset(found, address, 'user.cloudPassword.resetRequested', { channel }, context);
    const text =
      channel === 'email'
        ? `Your Lifeboat cloud password reset code is ${code}. It is valid for ${RESET_CODE_MINUTES} minutes. If you did not ask for it, ignore this message.`
        : `Lifeboat code: ${code} (valid ${RESET_CODE_MINUTES} min)`;
    await core
      .send({
        tenantId: found.tenantId,
        channel: channel as 'email' | 'sms',
        to,
        subject: 'Your Lifeboat password reset code',
        text,
        purpose: 'password.reset',
        userId: found.user.id,
        redact: [code],
      })
      .catch((err) => core.log.warn({ err, tenantId: found.tenantId }, 'password reset code could not be sent'));
  }

  const inFlight = new Set<Promise<unknown>>();

  return {
    policyFor,

    /**
     * For administrators (never for the reset page's anonymous callers: it would tell who may reset):
     * whether self-service reset is off for everyone right now, and which setting decides it.
     */
    async tenantPolicy(tenantId: string) {
      const monitor = (await deps.monitorOverride?.(tenantId)) ?? null;
      const tenantDefault: ResetChannel = (await core.loadSettings(tenantId))?.cloudPasswordReset ?? 'never';
      const allowing = (await events.current(tenantId, now())).filter((e) => e.cloudPasswordReset === 'email' || e.cloudPasswordReset === 'sms');
      const off = monitor ? monitor === 'never' : tenantDefault === 'never' && allowing.length === 0;
      const decidedBy: 'monitor' | 'event' | 'tenant' = monitor ? 'monitor' : allowing.length ? 'event' : 'tenant';
      return { off, decidedBy, monitor, tenantDefault, currentEventsAllowing: allowing.length };
    },

    async request(email: string, context: AuditContext): Promise<typeof RESET_ACCEPTED> {
      const address = email.trim().toLowerCase();
      // Every request counts towards the limit (a request is a guess at an address).
      await claimAttempt(`reset:${address}`, context.ip);
      // The rest happens after the answer: it takes the same time whether the account exists or not.
      const job = handle(address, context).catch((err) => core.log.warn({ err }, 'password reset request failed'));
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
      return RESET_ACCEPTED;
    },

    /** Resolves when every accepted request has been handled (tests, shutdown). */
    async settled(): Promise<void> {
      while (inFlight.size) await Promise.all([...inFlight]);
    },

    async confirm(email: string, code: string, password: string, context: AuditContext): Promise<void> {
      const address = email.trim().toLowerCase();
      const claim = await claimAttempt(`reset-confirm:${address}`, context.ip);
      const problem = passwordProblem(password);
      if (problem) throw unprocessable([{ path: 'password', message: problem }]);
      const found = await find(address);
      const id = found ? `${found.tenantId}:${found.user.id}` : 'none';
      const record = await models.resetCodes.findById(id).lean<ResetCodeRecord>();
      const expected = Buffer.from(record?.codeHash ?? hashCode('none', 'none', 'none'));
      const given = Buffer.from(hashCode(found?.tenantId ?? 'none', found?.user.id ?? 'none', code.trim()));
      const matches = expected.length === given.length && timingSafeEqual(expected, given);
      const usable = Boolean(found && record && record.expiresAt > now() && record.attempts < RESET_MAX_ATTEMPTS);
      if (!found || !record || !usable || !matches) {
        if (record && found) await models.resetCodes.updateOne({ _id: id }, { $inc: { attempts: 1 } });
        if (found) {
          await auditReset(
            found,
            address,
            'user.cloudPassword.resetFailed',
            {
              reason: !record
                ? 'no code requested'
                : record.expiresAt <= now()
                  ? 'code expired'
                  : record.attempts >= RESET_MAX_ATTEMPTS
                    ? 'too many attempts'
                    : 'wrong code',
            },
            context,
          );
        }
        throw invalidCode();
      }
      // Used once: only the request that removes it may set the password.
      const removed = await models.resetCodes.deleteOne({ _id: id, codeHash: record!.codeHash });
      if (removed.deletedCount !== 1) throw invalidCode();
      await deps.userAuth.setOwnCloudPassword(found!.tenantId, found!.user.id, password, { ...context, via: `reset code by ${record!.channel}` });
      await throttle.release(claim, null);
      await throttle.unlock(`reset-confirm:${address}`);
      await throttle.unlock(`reset:${address}`);
    },
  };
}
export type ResetService = ReturnType<typeof createResetService>;
