import type { EventRecord } from '../../../server/events/model';
import type { EventStatus } from '../../../server/events/service';

// The server's own types (type-only: nothing of the server is bundled); times arrive as ISO strings.
export type { EventStatus };
export type CloudPasswordReset = EventRecord['cloudPasswordReset'];

export interface SmsSettings {
  groupId: string;
  group?: { id: string; displayName: string } | null;
  startMessage: string;
  endMessage: string;
  startSendAt: string;
  startSendAtLocal?: string;
  /** The directory attribute the numbers come from (a tenant notification setting); only GET /api/events/:id gives it. */
  phoneAttribute?: string | null;
}

type Settings = Pick<
  EventRecord,
  | 'description'
  | 'affectedGroupId'
  | 'notes'
  | 'outlookContinuity'
  | 'cloudPasswordReset'
  | 'expandDistributionLists'
  | 'pauseInboundDelivery'
  | 'timeZone'
  | 'appNotifications'
>;

export interface ContinuityEvent extends Settings {
  id: string;
  affectedGroup: { id: string; displayName: string } | null;
  start: string;
  end: string | null;
  startLocal: string;
  endLocal: string | null;
  sms: SmsSettings | null;
  status: EventStatus;
  startedAt: string | null;
  endedAt: string | null;
  endedEarly: boolean;
  clonedFrom: string | null;
}

export interface Group {
  id: string;
  displayName: string;
  mail: string | null;
  kind: string;
}

export const LIMITS = { description: 200, notes: 500, appMessage: 250, smsMessage: 120, startPastDays: 5, smsLeadHours: 24 };

export const STATUS_LABELS: Record<EventStatus, string> = { pending: 'Pending', current: 'Current', expired: 'Expired' };
