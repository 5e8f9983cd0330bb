import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

/** A directory user's cloud password: how they sign in to Lifeboat while Entra ID is down. */
export interface UserCredentialRecord {
  tenantId: string;
  userId: string;
  passwordHash: string;
  setAt: Date;
  setBy: string;
}

const credentialSchema = new Schema<UserCredentialRecord>(
  {
    tenantId: { type: String, required: true },
    userId: { type: String, required: true },
    passwordHash: { type: String, required: true },
    setAt: { type: Date, required: true },
    setBy: { type: String, required: true },
  },
  { versionKey: false },
);
credentialSchema.index({ tenantId: 1, userId: 1 }, { unique: true });

export const userCredentialModel = (conn: Connection) => defineModel(conn, 'UserCredential', credentialSchema);
export type UserCredentialModel = ReturnType<typeof userCredentialModel>;
