import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

/** Threats judged on the mail path during an event (the report's protection section). */
export interface ThreatFigures {
  threats: number;
  quarantined: number;
  tagged: number;
  byVerdict: Partial<Record<string, number>>;
  reportedByUsers: number;
}

/**
 * The mail and threat figures of an event's report as last seen (_id <tenant>:<eventId>). Mail and its
 * verdicts are swept after the tenant's retention days, so live counts of an old event shrink; the report
 * keeps the highest count it has seen instead. The sweep settles an ended event before it removes any of
 * its mail (`settled`), so a report first opened months later still counts what happened.
 */
export interface ReportSnapshotRecord {
  _id: string;
  tenantId: string;
  eventId: string;
  received: number;
  sent: number;
  /** Null: protection was not composed when the figures were kept. */
  protection: ThreatFigures | null;
  /** Taken after the event ended: later sweeps only shrink the live counts, so it is not taken again. */
  settled: boolean;
  updatedAt: Date;
}

const snapshotSchema = new Schema<ReportSnapshotRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    eventId: { type: String, required: true },
    received: { type: Number, default: 0 },
    sent: { type: Number, default: 0 },
    protection: { type: Schema.Types.Mixed, default: null },
    settled: { type: Boolean, default: false },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

export const reportSnapshotModel = (conn: Connection) => defineModel(conn, 'EventReportSnapshot', snapshotSchema);
export type ReportSnapshotModel = ReturnType<typeof reportSnapshotModel>;
