/** Outlook users' identity: cloud passwords (set by admins) and bearer tokens (Lifeboat or Entra). */
import { domainOf } from '../http/addresses';
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import { dummyPasswordHash, hashPassword, passwordProblem, verifyPassword } from '../auth/password';
import { accountRules, type LoginThrottle } from '../auth/throttle';
import type { DirectoryService } from '../directory/service';
import type { DirectoryUser } from '../directory/model';
import { notFound, tooManyRequests, unauthorized, unprocessable } from '../http/problem';
import type { TenantService } from '../tenants/service';
import type { UserIdentity } from './identity';
import type { UserCredentialModel } from './model';
import type { Revocation } from './revocation';
import { TokenError, type TokenVerifier } from './tokens';

/** What revocation judges a token by: a Lifeboat token's generation, an Entra token's issue time (ms). */
export interface TokenCredential {
  generation?: number;
  issuedAt?: number;
}

const INVALID_LOGIN = 'The email address or password is incorrect.';

const toIdentity = (tenantId: string, user: DirectoryUser, via: UserIdentity['via']): UserIdentity => ({
  tenantId,
  userId: user.id,
  email: user.mail ?? user.userPrincipalName,
  displayName: user.displayName,
  via,
});

export function createUserAuthService(deps: {
  credentials: UserCredentialModel;
  directory: DirectoryService;
  tenants: TenantService;
  audit: AuditService;
  throttle: LoginThrottle;
  tokens: TokenVerifier;
  revocation: Revocation;
  /** The tenant a token's Entra `tid` belongs to (a file tenant's entraTenantId, or an Entra connection). */
  tenantOfEntraTenant: (entraTenantId: string) => Promise<string | null>;
  now?: () => Date;
}) {
  const { credentials, directory, tenants, audit, throttle, tokens, revocation } = deps;
  const now = deps.now ?? (() => new Date());

  async function findByAddress(email: string): Promise<{ tenantId: string; user: DirectoryUser } | null> {
    const tenant = await tenants.byDomain(domainOf(email));
    if (!tenant) return null;
    const user = await directory.findUserByAddress(tenant.id, email);
    return user ? { tenantId: tenant.id, user } : null;
  }

  async function auditAttempt(action: string, email: string, found: { tenantId: string; user: DirectoryUser } | null, context: AuditContext) {
    const tenantId = found?.tenantId ?? (await tenants.byDomain(domainOf(email)))?.id;
    if (!tenantId) return;
    await audit.record({
      tenantId,
      category: 'security',
      action,
      actor: found ? { type: 'user', id: found.user.id, email } : { type: 'anonymous', id: null, email },
      target: { type: 'userSession', id: null, label: email },
      ...context,
    });
  }

  return {
    async setCloudPassword(by: AdminIdentity, userId: string, password: unknown, context: AuditContext): Promise<void> {
      const user = await directory.getUser(by.tenantId, userId);
      if (!user) throw notFound('user');
      if (typeof password !== 'string') throw unprocessable([{ path: 'password', message: 'is required' }]);
      const problem = passwordProblem(password);
      if (problem) throw unprocessable([{ path: 'password', message: problem }]);
      const existed = await credentials.exists({ tenantId: by.tenantId, userId });
      await credentials.replaceOne(
        { tenantId: by.tenantId, userId },
        { tenantId: by.tenantId, userId, passwordHash: await hashPassword(password), setAt: now(), setBy: by.email },
        { upsert: true },
      );
      await audit.record({
        tenantId: by.tenantId,
        category: 'security',
        action: existed ? 'user.cloudPassword.reset' : 'user.cloudPassword.set',
        actor: adminActor(by),
        target: { type: 'user', id: user.id, label: user.mail ?? user.displayName },
        ...context,
      });
      // A changed password ends every session signed in with the old one.
      if (existed) await revocation.revoke(by.tenantId, userId);
    },

    /** An administrator's "sign out everywhere": every token of the user is refused, their sockets closed. */
    async signOutEverywhere(by: AdminIdentity, userId: string, context: AuditContext): Promise<void> {
      const user = await directory.getUser(by.tenantId, userId);
      if (!user) throw notFound('user');
      await revocation.revoke(by.tenantId, userId);
      await audit.record({
        tenantId: by.tenantId,
        category: 'security',
        action: 'user.signedOutEverywhere',
        actor: adminActor(by),
        target: { type: 'user', id: user.id, label: user.mail ?? user.displayName },
        ...context,
      });
    },

    /** Forgets the failed sign-ins and reset attempts of a user (the throttle's delays). */
    async unlock(by: AdminIdentity, userId: string, context: AuditContext): Promise<void> {
      const user = await directory.getUser(by.tenantId, userId);
      if (!user) throw notFound('user');
      const addresses = [user.mail, user.userPrincipalName].filter((a): a is string => Boolean(a)).map((a) => a.toLowerCase());
      let cleared = 0;
      for (const a of new Set(addresses)) {
        for (const account of [`user:${a}`, `reset:${a}`, `reset-confirm:${a}`]) cleared += await throttle.unlock(account);
      }
      await audit.record({
        tenantId: by.tenantId,
        category: 'security',
        action: 'user.unlocked',
        actor: adminActor(by),
        target: { type: 'user', id: user.id, label: user.mail ?? user.displayName },
        after: { clearedAttempts: cleared },
        ...context,
      });
    },

    /** The user sets their own cloud password after proving a reset code (server/notify/reset.ts); audited as the user. */
    async setOwnCloudPassword(tenantId: string, userId: string, password: string, context: AuditContext & { via: string }): Promise<void> {
      const user = await directory.getUser(tenantId, userId);
      if (!user) throw notFound('user');
      const problem = passwordProblem(password);
      if (problem) throw unprocessable([{ path: 'password', message: problem }]);
      await credentials.replaceOne(
        { tenantId, userId },
        { tenantId, userId, passwordHash: await hashPassword(password), setAt: now(), setBy: `self-service (${context.via})` },
        { upsert: true },
      );
      await audit.record({
        tenantId,
        category: 'security',
        action: 'user.cloudPassword.selfReset',
        actor: { type: 'user', id: user.id, email: user.mail ?? user.userPrincipalName },
        target: { type: 'user', id: user.id, label: user.mail ?? user.displayName },
        after: { via: context.via },
        ip: context.ip,
        requestId: context.requestId,
      });
      await revocation.revoke(tenantId, userId);
    },

    /** Stores a checked password (the spreadsheet import, which audits the whole import itself). */
    async storeCloudPassword(tenantId: string, userId: string, password: string, setBy: string): Promise<void> {
      await credentials.replaceOne(
        { tenantId, userId },
        { tenantId, userId, passwordHash: await hashPassword(password), setAt: now(), setBy },
        { upsert: true },
      );
    },

    /** When each user of the tenant got their cloud password (Directory › Users; a scan, admin pages only). */
    async cloudPasswordsSetAt(tenantId: string): Promise<Map<string, Date>> {
      const rows = await credentials.find({ tenantId }, { userId: 1, setAt: 1, _id: 0 }).lean();
      return new Map(rows.map((c) => [c.userId, c.setAt]));
    },

    async hasCloudPassword(tenantId: string, userId: string): Promise<boolean> {
      return Boolean(await credentials.exists({ tenantId, userId }));
    },

    /** The ids of a tenant's users who have a cloud password (readiness; a scan, admin pages only). */
    async cloudPasswordUserIds(tenantId: string): Promise<string[]> {
      return (await credentials.find({ tenantId }, { userId: 1, _id: 0 }).lean()).map((c) => c.userId);
    },

    async login(email: string, password: string, context: AuditContext): Promise<{ token: string; expiresAt: Date }> {
      const address = email.trim().toLowerCase();
      const account = `user:${address}`;
      const found = await findByAddress(address);
      // Counted before the password is checked (see server/auth/throttle.ts).
      const claim = await throttle.claim(accountRules(account, context.ip), account);
      if ('retryAfter' in claim) {
        await auditAttempt('user.login.throttled', address, found, context);
        throw tooManyRequests(claim.retryAfter, 'Too many failed sign-in attempts. Try again later.');
      }
      const credential = found ? await credentials.findOne({ tenantId: found.tenantId, userId: found.user.id }).lean() : null;
      const valid = await verifyPassword(password, credential?.passwordHash ?? (await dummyPasswordHash()));
      if (!found || !credential || !valid) {
        await auditAttempt('user.login.failed', address, found, context);
        throw unauthorized(INVALID_LOGIN);
      }
      await throttle.release(claim, account);
      await auditAttempt('user.login.succeeded', address, found, context);
      return tokens.issue(found.tenantId, found.user.id, {
        email: found.user.mail ?? found.user.userPrincipalName,
        name: found.user.displayName,
        generation: await revocation.generation(found.tenantId, found.user.id),
      });
    },

    /**
     * Signs in a user whose identity something else proved (the web inbox's Entra sign-in: an ID token
     * verified for this tenant, the user found by `oid`): the same Lifeboat token as a cloud-password
     * sign-in, revoked the same way.
     */
    async signInProven(tenantId: string, user: DirectoryUser, context: AuditContext & { via: string }): Promise<{ token: string; expiresAt: Date }> {
      const email = user.mail ?? user.userPrincipalName;
      await audit.record({
        tenantId,
        category: 'security',
        action: 'user.login.succeeded',
        actor: { type: 'user', id: user.id, email },
        target: { type: 'userSession', id: null, label: email },
        after: { via: context.via },
        ip: context.ip,
        requestId: context.requestId,
      });
      return tokens.issue(tenantId, user.id, { email, name: user.displayName, generation: await revocation.generation(tenantId, user.id) });
    },

    /** Why a signed-in user's token (a socket's, kept from `authenticate`) is no longer good, or null. */
    refusalOf(identity: UserIdentity, credential: TokenCredential): Promise<string | null> {
      return revocation.refusal(identity.tenantId, identity.userId, credential);
    },

    /** This node's copy of the tenant's token generations and directory users is read again at the next check. */
    forgetTokens: revocation.forget,

    onRevoked: revocation.onRevoked,

    /** The user behind a bearer token, or a reason it is refused. */
    async authenticate(token: string | undefined): Promise<{ identity: UserIdentity; credential: TokenCredential } | { refused: string }> {
      if (!token) return { refused: 'no token' };
      let verified;
      try {
        verified = await tokens.verify(token);
      } catch (err) {
        return { refused: err instanceof TokenError ? err.message : 'token could not be verified' };
      }
      if (verified.kind === 'lifeboat') {
        // Signed by us minutes ago: trusted unless revoked, which is checked in memory (a socket storm of
        // reconnects costs no database reads).
        const { email, name, gen } = verified.claims;
        const credential = { generation: typeof gen === 'number' ? gen : 0 };
        const refused = await revocation.refusal(verified.tenant, verified.subject, credential);
        if (refused) return { refused };
        return {
          credential,
          identity: {
            tenantId: verified.tenant,
            userId: verified.subject,
            email: typeof email === 'string' ? email : null,
            displayName: typeof name === 'string' ? name : '',
            via: 'cloudPassword',
          },
        };
      }
      const tenantId = await deps.tenantOfEntraTenant(verified.tenant);
      if (!tenantId) return { refused: 'the token is from an Entra tenant that is not connected to Lifeboat' };
      const tenant = { id: tenantId };
      // The user is the token's immutable object id (`oid`) in the tenant its `tid` maps to, never a
      // mutable claim (preferred_username, upn, email): those can be set to another user's address.
      const user = await directory.getUser(tenant.id, verified.subject);
      if (!user) return { refused: 'no such user in the directory' };
      const credential = { issuedAt: (verified.claims.iat ?? 0) * 1000 };
      const refused = await revocation.refusal(tenant.id, user.id, credential);
      return refused ? { refused } : { identity: toIdentity(tenant.id, user, 'entra'), credential };
    },
  };
}
export type UserAuthService = ReturnType<typeof createUserAuthService>;
