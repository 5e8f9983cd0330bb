import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

/**
 * The mail figures of an event's report as last seen (_id <tenant>:<eventId>). The continuity
 * mailbox is swept after its retention days, so live counts of an old event shrink; the report keeps
 * the highest count it has seen instead.
 */
export interface ReportSnapshotRecord {
  _id: string;
  tenantId: string;
  eventId: string;
  received: number;
  sent: number;
  updatedAt: Date;
}

const snapshotSchema = new Schema<ReportSnapshotRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    eventId: { type: String, required: true },
    received: { type: Number, default: 0 },
    sent: { type: Number, default: 0 },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

export const reportSnapshotModel = (conn: Connection) => defineModel(conn, 'EventReportSnapshot', snapshotSchema);
export type ReportSnapshotModel = ReturnType<typeof reportSnapshotModel>;
