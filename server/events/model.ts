import { Schema, Types, type Connection } from 'mongoose';
import { defineModel } from '../db/connection';

export const CLOUD_PASSWORD_RESET = ['inherit', 'never', 'email', 'sms'] as const;
export type CloudPasswordReset = (typeof CLOUD_PASSWORD_RESET)[number];

export interface SmsSettings {
  groupId: string;
  startMessage: string;
  endMessage: string;
  startSendAt: Date;
}

export interface EventRecord {
  _id: Types.ObjectId;
  tenantId: string;
  description: string;
  affectedGroupId: string;
  notes: string;
  outlookContinuity: boolean;
  cloudPasswordReset: CloudPasswordReset;
  expandDistributionLists: boolean;
  pauseInboundDelivery: boolean;
  timeZone: string;
  start: Date;
  end: Date | null;
  appNotifications: { startMessage: string; endMessage: string };
  sms: SmsSettings | null;
  /** When this event's start / end transition was fired (null: not yet). Set by the scheduler only. */
  startFiredAt: Date | null;
  endFiredAt: Date | null;
  endedEarly: boolean;
  /** The past end an admin typed to complete a current event (it ended when saved); null otherwise. */
  requestedEnd: Date | null;
  createdBy: string | null;
  clonedFrom: Types.ObjectId | null;
  createdAt: Date;
  updatedAt: Date;
}

const eventSchema = new Schema<EventRecord>(
  {
    tenantId: { type: String, required: true },
    description: { type: String, required: true },
    affectedGroupId: { type: String, required: true },
    notes: { type: String, default: '' },
    outlookContinuity: { type: Boolean, default: true },
    cloudPasswordReset: { type: String, enum: CLOUD_PASSWORD_RESET, default: 'inherit' },
    expandDistributionLists: { type: Boolean, default: false },
    pauseInboundDelivery: { type: Boolean, default: false },
    timeZone: { type: String, required: true },
    start: { type: Date, required: true },
    end: { type: Date, default: null },
    appNotifications: {
      startMessage: { type: String, default: '' },
      endMessage: { type: String, default: '' },
    },
    sms: {
      type: new Schema<SmsSettings>(
        {
          groupId: { type: String, required: true },
          startMessage: { type: String, default: '' },
          endMessage: { type: String, default: '' },
          startSendAt: { type: Date, required: true },
        },
        { _id: false },
      ),
      default: null,
    },
    startFiredAt: { type: Date, default: null },
    endFiredAt: { type: Date, default: null },
    endedEarly: { type: Boolean, default: false },
    requestedEnd: { type: Date, default: null },
    createdBy: { type: String, default: null },
    clonedFrom: { type: Schema.Types.ObjectId, default: null },
  },
  { timestamps: true, versionKey: false },
);
eventSchema.index({ tenantId: 1, start: 1 });
eventSchema.index({ tenantId: 1, end: 1 });
// The scheduler's two questions: which starts are due, which ends are due.
eventSchema.index({ startFiredAt: 1, start: 1 });
eventSchema.index({ endFiredAt: 1, end: 1 });

export type TransitionKind = 'start' | 'end';
export type TransitionCause = 'schedule' | 'endNow' | 'edit';

export interface TransitionRecord {
  _id: Types.ObjectId;
  /** `${eventId}:${kind}`: the unique index that lets exactly one scheduler claim a transition. */
  key: string;
  tenantId: string;
  eventId: Types.ObjectId;
  kind: TransitionKind;
  cause: TransitionCause;
  scheduledAt: Date;
  firedAt: Date;
  firedBy: string;
  /** Set once the in-process consumers (push, notifications, mail routing) have been told. */
  dispatchedAt: Date | null;
}

const transitionSchema = new Schema<TransitionRecord>(
  {
    key: { type: String, required: true },
    tenantId: { type: String, required: true },
    eventId: { type: Schema.Types.ObjectId, required: true },
    kind: { type: String, enum: ['start', 'end'], required: true },
    cause: { type: String, enum: ['schedule', 'endNow', 'edit'], required: true },
    scheduledAt: { type: Date, required: true },
    firedAt: { type: Date, required: true },
    firedBy: { type: String, required: true },
    dispatchedAt: { type: Date, default: null },
  },
  { versionKey: false },
);
transitionSchema.index({ key: 1 }, { unique: true });
transitionSchema.index({ tenantId: 1, eventId: 1, firedAt: 1 });
transitionSchema.index({ dispatchedAt: 1, firedAt: 1 });

export const eventModel = (conn: Connection) => defineModel(conn, 'ContinuityEvent', eventSchema);
export const transitionModel = (conn: Connection) => defineModel(conn, 'EventTransition', transitionSchema);
export type EventModel = ReturnType<typeof eventModel>;
export type TransitionModel = ReturnType<typeof transitionModel>;
