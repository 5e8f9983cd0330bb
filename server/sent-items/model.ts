/**
 * What the Sent Items write-back keeps: one claim per message copied (inserted before the copy, so a
 * message is never copied twice, whichever node or run gets there first), each tenant's last run as
 * the admin sees it, and each user's count as the inbox tells them. Everything is read and written by
 * `_id` (FerretDB v1 scans any other filter).
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

export interface CopyClaimRecord {
  /** <tenant>:<user>:<message id in the continuity mailbox> */
  _id: string;
  tenantId: string;
  state: 'claimed' | 'copied';
  /** The message's id in Exchange once created. */
  graphId: string | null;
  at: Date;
}

export type RunState = 'running' | 'done' | 'unavailable' | 'failed';
/** Who started a run: an administrator's press, or the end of a continuity event (once per event). */
export type RunTrigger = 'admin' | 'eventEnded';
export interface RunRecord {
  /** The tenant id. */
  _id: string;
  state: RunState;
  trigger?: RunTrigger;
  /** Sent messages found in the continuity mailboxes. */
  total: number;
  copied: number;
  /** Copied before (an earlier run) or claimed by another worker. */
  skipped: number;
  failed: number;
  /** Copied without their attachments (over the size a Graph request can carry). */
  withoutAttachments: number;
  lastError: string | null;
  reason: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

/** The automatic start after an event's end, claimed by insert: once per event, whichever node gets there first. */
export interface EventStartRecord {
  /** The event id. */
  _id: string;
  tenantId: string;
  at: Date;
}

export interface UserCountRecord {
  /** <tenant>:<user> */
  _id: string;
  tenantId: string;
  copied: number;
  lastAt: Date;
}

const claimSchema = new Schema<CopyClaimRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    state: { type: String, required: true },
    graphId: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
const runSchema = new Schema<RunRecord>(
  {
    _id: { type: String, required: true },
    state: { type: String, required: true },
    trigger: { type: String, default: 'admin' },
    total: Number,
    copied: Number,
    skipped: Number,
    failed: Number,
    withoutAttachments: Number,
    lastError: { type: String, default: null },
    reason: { type: String, default: null },
    startedAt: Date,
    finishedAt: { type: Date, default: null },
  },
  { versionKey: false },
);
const userSchema = new Schema<UserCountRecord>(
  { _id: { type: String, required: true }, tenantId: { type: String, required: true }, copied: Number, lastAt: Date },
  { versionKey: false },
);

const eventStartSchema = new Schema<EventStartRecord>(
  { _id: { type: String, required: true }, tenantId: { type: String, required: true }, at: { type: Date, required: true } },
  { versionKey: false },
);

export function sentItemsModels(conn: Connection) {
  return {
    eventStarts: defineModel(conn, 'SentItemsEventStart', eventStartSchema),
    claims: defineModel(conn, 'SentItemsCopyClaim', claimSchema),
    runs: defineModel(conn, 'SentItemsRun', runSchema),
    users: defineModel(conn, 'SentItemsUserCount', userSchema),
  };
}
export type SentItemsModels = ReturnType<typeof sentItemsModels>;
