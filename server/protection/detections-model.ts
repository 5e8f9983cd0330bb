/**
 * Messages users reported as phishing from the pane or the web inbox (`_id` = `<tenant>:<user>:<mailbox id>`,
 * so one user reports one message once). Shown to admins in the detections log.
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

export interface PhishingReportRecord {
  _id: string;
  tenantId: string;
  userId: string;
  email: string | null;
  /** The message's id in the reporter's mailbox (`inbox:<key>`). */
  mailboxId: string;
  from: string;
  subject: string;
  recipients: string[];
  /** The verdict the message had when reported (null: not judged). */
  verdict: string | null;
  comment: string;
  at: Date;
}

const reportSchema = new Schema<PhishingReportRecord>(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true, index: true },
    userId: { type: String, required: true },
    email: { type: String, default: null },
    mailboxId: { type: String, required: true },
    from: { type: String, default: '' },
    subject: { type: String, default: '' },
    recipients: { type: [String], default: [] },
    verdict: { type: String, default: null },
    comment: { type: String, default: '' },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

export const phishingReportModel = (conn: Connection) => defineModel(conn, 'PhishingReport', reportSchema);
export type PhishingReportModel = ReturnType<typeof phishingReportModel>;
