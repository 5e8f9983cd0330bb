/**
 * TOTP two-factor sign-in for administrators' cloud passwords (otplib, RFC 6238, 30-second steps,
 * one step of clock drift either way), with ten single-use recovery codes, and the tenant's rule that
 * every administrator must use it (turned on by a full administrator who uses it already).
 * Secrets are sealed with LIFEBOAT_SECRET; recovery codes are stored as sha256 (they are random).
 * A code is used once: its use is claimed by an insert (server/db/claims.ts) before it is accepted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import { generateSecret, generateURI, verify } from 'otplib';
import type { AuditService } from '../audit/service';
import { claimByInsert } from '../db/claims';
import { defineModel } from '../db/connection';
import { conflict, unprocessable } from '../http/problem';
import type { SecretBox } from '../secrets/seal';
import { adminActor, type AdminIdentity } from './identity';
import type { AdminModel, AdminRecord } from './model';

export interface AdminPolicyRecord {
  _id: string;
  requireTwoFactor: boolean;
}
interface UsedCodeRecord {
  _id: string;
  at: Date;
}

const policySchema = new Schema<AdminPolicyRecord>(
  { _id: { type: String, required: true }, requireTwoFactor: { type: Boolean, default: false } },
  { versionKey: false },
);
const usedCodeSchema = new Schema<UsedCodeRecord>({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });
export const adminPolicyModel = (conn: Connection) => defineModel(conn, 'AdminPolicy', policySchema);
export const usedCodeModel = (conn: Connection) => defineModel(conn, 'UsedTwoFactorCode', usedCodeSchema);

const RECOVERY_CODES = 10;
const STEP_SECONDS = 30;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const normalizeRecovery = (code: string) => code.replace(/[\s-]/g, '').toLowerCase();

type Context = { ip: string | null; requestId: string | null };

export function createTwoFactor(deps: {
  admins: AdminModel;
  policies: ReturnType<typeof adminPolicyModel>;
  used: ReturnType<typeof usedCodeModel>;
  box: SecretBox;
  audit: AuditService;
  now: () => Date;
}) {
  const { admins, policies, used, box, audit, now } = deps;
  const sealContext = (adminId: string) => `admin-totp:${adminId}`;

  async function audited(by: AdminIdentity, action: string, target: { id: string; label: string }, context: Context, after?: Record<string, unknown>) {
    await audit.record({ tenantId: by.tenantId, category: 'security', action, actor: adminActor(by), target: { type: 'admin', ...target }, after, ...context });
  }

  async function totpMatches(sealed: string, adminId: string, code: string): Promise<number | null> {
    if (!/^\d{6}$/.test(code)) return null;
    const epoch = Math.floor(now().getTime() / 1000);
    const result = await verify({ secret: box.open(sealed, sealContext(adminId)), token: code, epoch, epochTolerance: STEP_SECONDS });
    return result.valid ? Math.floor(epoch / STEP_SECONDS) + (result.delta ?? 0) : null;
  }

  function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
    const codes = Array.from({ length: RECOVERY_CODES }, () => {
      const raw = randomBytes(8).toString('hex');
      return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12)}`;
    });
    return { codes, hashes: codes.map((c) => sha256(normalizeRecovery(c))) };
  }

  return {
    async required(tenantId: string): Promise<boolean> {
      return Boolean((await policies.findById(tenantId).lean())?.requireTwoFactor);
    },

    async setRequired(by: AdminIdentity, required: boolean, context: Context): Promise<void> {
      if (required) {
        const self = await admins.findById(by.adminId).lean<AdminRecord>();
        if (!self?.totpSecret) throw conflict('Turn on two-factor sign-in for your own account first, or you would lock yourself out.');
      }
      await policies.replaceOne({ _id: by.tenantId }, { _id: by.tenantId, requireTwoFactor: required }, { upsert: true });
      await audited(by, required ? 'admin.twoFactor.required' : 'admin.twoFactor.optional', { id: by.tenantId, label: 'tenant' }, context);
    },

    /** Starts setting up TOTP: a new secret to scan, confirmed by `enable` with a code from it. */
    async setup(by: AdminIdentity): Promise<{ secret: string; uri: string }> {
      const secret = generateSecret();
      await admins.updateOne({ _id: by.adminId, tenantId: by.tenantId }, { $set: { totpPending: box.seal(secret, sealContext(by.adminId)) } });
      return { secret, uri: generateURI({ issuer: 'Lifeboat', label: by.email, secret }) };
    },

    /** Confirms the pending secret with a code; returns the recovery codes (shown once). */
    async enable(by: AdminIdentity, code: string, context: Context): Promise<{ recoveryCodes: string[] }> {
      const admin = await admins.findOne({ _id: by.adminId, tenantId: by.tenantId }).lean<AdminRecord>();
      if (!admin?.totpPending) throw conflict('Start the two-factor set-up first.');
      if ((await totpMatches(admin.totpPending, by.adminId, code.trim())) === null) {
        throw unprocessable([{ path: 'code', message: 'is not the current code of the authenticator app' }]);
      }
      const { codes, hashes } = newRecoveryCodes();
      await admins.updateOne({ _id: admin._id }, { $set: { totpSecret: admin.totpPending, totpPending: null, recoveryCodeHashes: hashes } });
      await audited(by, 'admin.twoFactor.enabled', { id: by.adminId, label: by.email }, context);
      return { recoveryCodes: codes };
    },

    /** Turns two-factor off for an admin (themselves, or a full administrator for a lost device). */
    async disable(by: AdminIdentity, admin: AdminRecord, context: Context): Promise<void> {
      await admins.updateOne({ _id: admin._id }, { $set: { totpSecret: null, totpPending: null, recoveryCodeHashes: [] } });
      await audited(by, 'admin.twoFactor.disabled', { id: admin._id.toHexString(), label: admin.email }, context);
    },

    /** At sign-in: 'ok' when the admin has no TOTP or the code (or an unused recovery code) is right. */
    async check(admin: AdminRecord, code: string | undefined): Promise<'ok' | 'missing' | 'wrong'> {
      if (!admin.totpSecret) return 'ok';
      if (!code?.trim()) return 'missing';
      const id = admin._id.toHexString();
      const step = await totpMatches(admin.totpSecret, id, code.trim());
      // A code is good once: a replay within its 30 seconds (or a parallel request) is refused.
      if (step !== null) return (await claimByInsert(used, { _id: `totp:${id}:${step}`, at: now() })) ? 'ok' : 'wrong';
      const hash = sha256(normalizeRecovery(code));
      if (!(admin.recoveryCodeHashes ?? []).includes(hash)) return 'wrong';
      if (!(await claimByInsert(used, { _id: `recovery:${id}:${hash}`, at: now() }))) return 'wrong';
      await admins.updateOne({ _id: admin._id }, { $pull: { recoveryCodeHashes: hash } });
      return 'ok';
    },
  };
}
export type TwoFactor = ReturnType<typeof createTwoFactor>;
