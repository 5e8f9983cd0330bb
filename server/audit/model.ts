import { Schema, Types, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';
import type { AuditContext } from './context';

export interface AuditActor {
  type: 'admin' | 'user' | 'system' | 'anonymous';
  id: string | null;
  email: string | null;
}

export interface AuditTarget {
  type: string;
  id: string | null;
  label: string | null;
}

/** One audit entry as stored: what happened, to what, by whom, and the request's AuditContext (ip, requestId). */
export interface AuditRecord extends AuditContext {
  _id: Types.ObjectId;
  tenantId: string;
  at: Date;
  category: string;
  action: string;
  actor: AuditActor;
  target: AuditTarget | null;
  before: unknown;
  after: unknown;
}

const auditSchema = new Schema<AuditRecord>(
  {
    tenantId: { type: String, required: true },
    at: { type: Date, required: true },
    category: { type: String, required: true },
    action: { type: String, required: true },
    actor: {
      type: { type: String, required: true },
      id: { type: String, default: null },
      email: { type: String, default: null },
    },
    target: { type: Schema.Types.Mixed, default: null },
    before: { type: Schema.Types.Mixed, default: null },
    after: { type: Schema.Types.Mixed, default: null },
    ip: { type: String, default: null },
    requestId: { type: String, default: null },
  },
  { versionKey: false },
);
auditSchema.index({ tenantId: 1, at: -1, _id: -1 });
auditSchema.index({ tenantId: 1, category: 1, at: -1 });

// Append-only: the model refuses every kind of change to a written entry.
for (const op of ['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne', 'deleteOne', 'deleteMany', 'findOneAndDelete'] as const) {
  auditSchema.pre(op, function () {
    throw new Error(`audit entries are append-only (${op} refused)`);
  });
}

export const auditModel = (conn: Connection) => defineModel(conn, 'AuditEntry', auditSchema);
export type AuditModel = ReturnType<typeof auditModel>;
