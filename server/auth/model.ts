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

export interface LoginFailureRecord {
  key: string;
  at: Date;
}

const adminSchema = new Schema<AdminRecord>(
  {
    tenantId: { type: String, required: true },
    email: { type: String, required: true, lowercase: true, trim: true },
    displayName: { type: String, default: '' },
    role: { type: String, enum: ROLES, required: true },
    passwordHash: { type: String, required: true },
  },
  { timestamps: true, versionKey: false },
);
// An email signs in to exactly one tenant.
adminSchema.index({ email: 1 }, { unique: true });
adminSchema.index({ tenantId: 1 });

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

const loginFailureSchema = new Schema<LoginFailureRecord>({ key: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });
loginFailureSchema.index({ key: 1, at: 1 });
loginFailureSchema.index({ at: 1 });

export const adminModel = (conn: Connection) => defineModel(conn, 'Admin', adminSchema);
export const sessionModel = (conn: Connection) => defineModel(conn, 'Session', sessionSchema);
export const loginFailureModel = (conn: Connection) => defineModel(conn, 'LoginFailure', loginFailureSchema);
export type AdminModel = ReturnType<typeof adminModel>;
export type SessionModel = ReturnType<typeof sessionModel>;
export type LoginFailureModel = ReturnType<typeof loginFailureModel>;
