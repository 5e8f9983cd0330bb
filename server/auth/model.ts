import { Schema, Types, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';
import { ROLES, type Role } from '../shared/constants';

// The role names are shared with the admin page (server/shared/constants.ts).
export { ROLES, type Role };

export interface AdminRecord {
  _id: Types.ObjectId;
  tenantId: string;
  email: string;
  displayName: string;
  role: Role;
  passwordHash: string;
  /** TOTP two-factor (server/auth/two-factor.ts): the sealed secret once confirmed, else null. */
  totpSecret?: string | null;
  /** A secret being set up, not yet confirmed by a code. */
  totpPending?: string | null;
  /** sha256 of the unused recovery codes. */
  recoveryCodeHashes?: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface SessionRecord {
  /** sha256 of the cookie's token: a leaked database does not leak live sessions. */
  tokenHash: string;
  tenantId: string;
  adminId: Types.ObjectId;
  createdAt: Date;
  expiresAt: Date;
}

/**
 * One counted attempt: `_id` is `<key>:<window>:<n>`, so at most `limit` attempts of a key can exist in
 * a window, and claiming one is an insert under the unique `_id` (atomic on FerretDB v1, unlike $inc).
 */
export interface AttemptSlotRecord {
  _id: string;
  key: string;
  /** The account the key is about (admin:<email>, user:<email>, reset:<email>), so an admin can unlock it. */
  account: string | null;
  window: number;
  at: Date;
}

const adminSchema = new Schema<AdminRecord>(
  {
    tenantId: { type: String, required: true },
    email: { type: String, required: true, lowercase: true, trim: true },
    displayName: { type: String, default: '' },
    role: { type: String, enum: ROLES, required: true },
    passwordHash: { type: String, required: true },
    totpSecret: { type: String, default: null },
    totpPending: { type: String, default: null },
    recoveryCodeHashes: { type: [String], default: [] },
  },
  { timestamps: true, versionKey: false },
);
// An address is unique within its tenant only: whether another tenant has an admin of that address
// is none of this tenant's business (no existence oracle, no squatting across tenants).
adminSchema.index({ tenantId: 1, email: 1 }, { unique: true });
adminSchema.index({ email: 1 });

/**
 * Drops the index that once made admin addresses unique across every tenant (a database from before
 * addresses were scoped to their tenant); run before the indexes are built.
 */
export async function dropGlobalAdminEmailIndex(conn: Connection): Promise<void> {
  const collection = adminModel(conn).collection;
  const indexes = await collection.indexes().catch(() => []);
  if (indexes.some((i) => i.name === 'email_1' && i.unique)) await collection.dropIndex('email_1');
}

const sessionSchema = new Schema<SessionRecord>(
  {
    tokenHash: { type: String, required: true },
    tenantId: { type: String, required: true },
    adminId: { type: Schema.Types.ObjectId, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false },
);
sessionSchema.index({ tokenHash: 1 }, { unique: true });
sessionSchema.index({ expiresAt: 1 });

const attemptSlotSchema = new Schema<AttemptSlotRecord>(
  {
    _id: { type: String, required: true },
    key: { type: String, required: true },
    account: { type: String, default: null },
    window: { type: Number, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
attemptSlotSchema.index({ key: 1, window: 1 });
attemptSlotSchema.index({ account: 1 });
attemptSlotSchema.index({ at: 1 });

export const adminModel = (conn: Connection) => defineModel(conn, 'Admin', adminSchema);
export const sessionModel = (conn: Connection) => defineModel(conn, 'Session', sessionSchema);
export const attemptSlotModel = (conn: Connection) => defineModel(conn, 'AttemptSlot', attemptSlotSchema);
export type AdminModel = ReturnType<typeof adminModel>;
export type SessionModel = ReturnType<typeof sessionModel>;
export type AttemptSlotModel = ReturnType<typeof attemptSlotModel>;
