import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

export const CLIENT_KINDS = ['classicWindows', 'mac', 'newOutlookWindows', 'web', 'mobile', 'unknown'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];
export const CACHED_MODES = ['confirmed', 'notConfirmed', 'unknown', 'always', 'notApplicable'] as const;
export type CachedMode = (typeof CACHED_MODES)[number];

export interface ClientEvidence {
  type: string;
  at: Date;
  detail: string;
}

/** The Outlook client a user last opened the pane in, as the pane detected it. One per user. */
export interface ClientReportRecord {
  tenantId: string;
  userId: string;
  kind: ClientKind;
  hostName: string;
  platform: string;
  accountType: string;
  hostVersion: string;
  cachedMode: CachedMode;
  evidence: ClientEvidence[];
  reportedAt: Date;
}

const reportSchema = new Schema<ClientReportRecord>(
  {
    tenantId: { type: String, required: true },
    userId: { type: String, required: true },
    kind: { type: String, enum: CLIENT_KINDS, required: true },
    hostName: { type: String, default: '' },
    platform: { type: String, default: '' },
    accountType: { type: String, default: '' },
    hostVersion: { type: String, default: '' },
    cachedMode: { type: String, enum: CACHED_MODES, required: true },
    evidence: { type: [{ type: { type: String }, at: Date, detail: String, _id: false }], default: [] },
    reportedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
reportSchema.index({ tenantId: 1, userId: 1 }, { unique: true });
reportSchema.index({ tenantId: 1, kind: 1 });

export const clientReportModel = (conn: Connection) => defineModel(conn, 'ClientReport', reportSchema);
export type ClientReportModel = ReturnType<typeof clientReportModel>;
