import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

/**
 * One row per change of a tenant's continuity state (a transition, an edit of a current event, a
 * directory change). Its number is the `seq` users see: it only grows, so a client that saw seq N
 * knows it missed something when the server is past N. Inserted under a unique index, so two
 * processes can never hand out the same number (no atomic $inc on FerretDB).
 */
export interface StatusEpochRecord {
  tenantId: string;
  epoch: number;
  reason: string;
  at: Date;
}

const epochSchema = new Schema<StatusEpochRecord>(
  {
    tenantId: { type: String, required: true },
    epoch: { type: Number, required: true },
    reason: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
epochSchema.index({ tenantId: 1, epoch: -1 }, { unique: true });

export const statusEpochModel = (conn: Connection) => defineModel(conn, 'StatusEpoch', epochSchema);
export type StatusEpochModel = ReturnType<typeof statusEpochModel>;
