/**
 * Admin sign-in: cloud passwords checked locally (works while Entra ID is down), sessions kept
 * in the database (they survive restarts), failed attempts throttled per account and per address.
 */
import { domainOf } from '../http/addresses';
import type { AuditContext } from '../audit/context';
import { createHash, randomBytes } from 'node:crypto';
import type { AuditService } from '../audit/service';
import { HttpProblem, tooManyRequests, unauthorized } from '../http/problem';
import type { TenantService } from '../tenants/service';
import type { AdminIdentity } from './identity';
import type { AdminModel, AdminRecord, SessionModel } from './model';
import { dummyPasswordHash, verifyPassword } from './password';
import { accountRules, type LoginThrottle } from './throttle';
import type { TwoFactor } from './two-factor';

export { MAX_ATTEMPTS_ACCOUNT_WIDE, MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS } from './throttle';
const INVALID_LOGIN = 'The email address or password is incorrect.';
/** The most tenants one address is tried in at sign-in (each costs a password check). */
const MAX_ACCOUNTS_PER_ADDRESS = 5;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export const toIdentity = (admin: AdminRecord): AdminIdentity => ({
  tenantId: admin.tenantId,
  adminId: admin._id.toHexString(),
  email: admin.email,
  displayName: admin.displayName,
  role: admin.role,
});

export interface LoginRequest extends AuditContext {
  email: string;
  password: string;
  /** The authenticator app's code (or a recovery code), for admins with two-factor sign-in. */
  code?: string;
}

export function createAuthService(deps: {
  admins: AdminModel;
  sessions: SessionModel;
  throttle: LoginThrottle;
  audit: AuditService;
  tenants: TenantService;
  twoFactor: TwoFactor;
  sessionHours: number;
  now?: () => Date;
}) {
  const { admins, sessions, throttle, audit, tenants } = deps;
  const now = deps.now ?? (() => new Date());

  /** The tenant an attempt belongs to: the account's, else the one owning the email's domain. */
  async function tenantOfAttempt(email: string, admin: AdminRecord | null): Promise<string | null> {
    if (admin) return admin.tenantId;
    const domain = domainOf(email);
    return domain ? ((await tenants.byDomain(domain))?.id ?? null) : null;
  }

  async function auditAttempt(action: string, request: LoginRequest, email: string, admin: AdminRecord | null) {
    const tenantId = await tenantOfAttempt(email, admin);
    if (!tenantId) return;
    await audit.record({
      tenantId,
      category: 'security',
      action,
      actor: admin ? { type: 'admin', id: admin._id.toHexString(), email } : { type: 'anonymous', id: null, email },
      target: { type: 'adminSession', id: null, label: email },
      ip: request.ip,
      requestId: request.requestId,
    });
  }

  return {
    async login(request: LoginRequest): Promise<{ token: string; expiresAt: Date; identity: AdminIdentity }> {
      const email = request.email.trim().toLowerCase();
      // Addresses are unique per tenant: an address the operator allows outside the tenants' domains
      // (LIFEBOAT_ADMIN_EMAIL_DOMAINS) may be an admin of several. The tenant owning its domain first.
      const candidates = await admins.find({ email }).limit(MAX_ACCOUNTS_PER_ADDRESS).lean<AdminRecord[]>();
      if (candidates.length > 1) {
        const owner = (await tenants.byDomain(domainOf(email)))?.id;
        candidates.sort((a, b) => Number(b.tenantId === owner) - Number(a.tenantId === owner));
      }
      const account = `admin:${email}`;
      // Counted before the password is checked: a burst in parallel gets no more guesses than the budget.
      const claim = await throttle.claim(accountRules(account, request.ip), account);
      if ('retryAfter' in claim) {
        await auditAttempt('login.throttled', request, email, candidates[0] ?? null);
        throw tooManyRequests(claim.retryAfter, 'Too many failed sign-in attempts. Try again later.');
      }

      // Unknown accounts cost the same scrypt as known ones: timing reveals nothing.
      let admin: AdminRecord | null = null;
      if (!candidates.length) await verifyPassword(request.password, await dummyPasswordHash());
      for (const candidate of candidates) {
        if (await verifyPassword(request.password, candidate.passwordHash)) {
          admin = candidate;
          break;
        }
      }
      if (!admin) {
        await auditAttempt('login.failed', request, email, candidates[0] ?? null);
        throw unauthorized(INVALID_LOGIN);
      }
      // The second factor, checked under the same claimed attempt (a wrong code spends the budget too).
      const second = await deps.twoFactor.check(admin, request.code);
      if (second !== 'ok') {
        await auditAttempt(second === 'missing' ? 'login.twoFactorAsked' : 'login.twoFactorFailed', request, email, admin);
        throw new HttpProblem(401, 'Unauthorized', second === 'missing' ? 'Enter the code from your authenticator app.' : 'The code is not valid.', {
          twoFactor: 'required',
          errors: [{ path: 'code', message: second === 'missing' ? 'is required' : 'is not valid' }],
        });
      }

      await throttle.release(claim, account);
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now().getTime() + deps.sessionHours * 3600 * 1000);
      await sessions.create({ tokenHash: hashToken(token), tenantId: admin.tenantId, adminId: admin._id, createdAt: now(), expiresAt });
      await auditAttempt('login.succeeded', request, email, admin);
      return { token, expiresAt, identity: toIdentity(admin) };
    },

    async authenticate(token: string | undefined): Promise<AdminIdentity | null> {
      if (!token) return null;
      const session = await sessions.findOne({ tokenHash: hashToken(token) }).lean();
      if (!session || session.expiresAt <= now()) return null;
      const admin = await admins.findOne({ _id: session.adminId, tenantId: session.tenantId }).lean<AdminRecord>();
      if (!admin) return null;
      const mustEnroll = !admin.totpSecret && (await deps.twoFactor.required(admin.tenantId));
      return mustEnroll ? { ...toIdentity(admin), mustEnrollTwoFactor: true } : toIdentity(admin);
    },

    async logout(token: string | undefined, identity: AdminIdentity, context: AuditContext) {
      if (token) await sessions.deleteOne({ tokenHash: hashToken(token) });
      await audit.record({
        tenantId: identity.tenantId,
        category: 'security',
        action: 'logout',
        actor: { type: 'admin', id: identity.adminId, email: identity.email },
        target: { type: 'adminSession', id: null, label: identity.email },
        ...context,
      });
    },

    /** Ends every session of an admin (removed, or their password reset). */
    async endSessions(tenantId: string, adminId: string): Promise<void> {
      await sessions.deleteMany({ tenantId, adminId });
    },

    /** Removes expired sessions and old failure records (FerretDB has no TTL indexes). */
    async sweep(): Promise<{ sessions: number; failures: number }> {
      const s = await sessions.deleteMany({ expiresAt: { $lte: now() } });
      return { sessions: s.deletedCount, failures: await throttle.sweep() };
    },
  };
}
export type AuthService = ReturnType<typeof createAuthService>;
