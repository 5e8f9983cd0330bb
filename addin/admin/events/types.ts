/** A continuity event as the API returns it (README, "Continuity events"). */
export type EventStatus = 'pending' | 'current' | 'expired';
export type CloudPasswordReset = 'inherit' | 'never' | 'email' | 'sms';

export interface SmsSettings {
  groupId: string;
  group?: { id: string; displayName: string } | null;
  startMessage: string;
  endMessage: string;
  startSendAt: string;
  startSendAtLocal?: string;
}

export interface ContinuityEvent {
  id: string;
  description: string;
  affectedGroupId: string;
  affectedGroup: { id: string; displayName: string } | null;
  notes: string;
  outlookContinuity: boolean;
  cloudPasswordReset: CloudPasswordReset;
  expandDistributionLists: boolean;
  pauseInboundDelivery: boolean;
  timeZone: string;
  start: string;
  end: string | null;
  startLocal: string;
  endLocal: string | null;
  appNotifications: { startMessage: string; endMessage: string };
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
