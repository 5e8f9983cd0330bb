/** A tenant's readiness settings: which outbound relay region (or custom include) its SPF records must carry. */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

export interface ReadinessSettingsRecord {
  /** The tenant id (one document per tenant, keyed by string _id). */
  _id: string;
  region: string | null;
  customInclude: string | null;
  updatedAt: Date;
  updatedBy: string | null;
}

const schema = new Schema<ReadinessSettingsRecord>(
  {
    _id: { type: String, required: true },
    region: { type: String, default: null },
    customInclude: { type: String, default: null },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, default: null },
  },
  { versionKey: false },
);

export const readinessSettingsModel = (conn: Connection) => defineModel(conn, 'ReadinessSettings', schema);
