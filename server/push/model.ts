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

/**
 * The first time a user's task pane showed an event as active (the start banner), one document per
 * tenant + event + user under `_id` `<tenant>:<event>:<user>`: inserting it again is a duplicate key,
 * so the first receipt wins and nothing is ever updated.
 */
export interface BannerReceiptRecord {
  _id: string;
  tenantId: string;
  eventId: string;
  userId: string;
  /** The Outlook client the pane said it runs in, when it said so. */
  client: string | null;
  /** How the acknowledgement came in: over the socket, or the REST fallback. */
  via: 'socket' | 'rest';
  seq: number;
  at: Date;
}

const receiptSchema = new Schema<BannerReceiptRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    eventId: { type: String, required: true },
    userId: { type: String, required: true },
    client: { type: String, default: null },
    via: { type: String, required: true },
    seq: { type: Number, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

export const bannerReceiptModel = (conn: Connection) => defineModel(conn, 'BannerReceipt', receiptSchema);
export type BannerReceiptModel = ReturnType<typeof bannerReceiptModel>;
