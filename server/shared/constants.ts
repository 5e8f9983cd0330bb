/**
 * Names, limits and labels the server enforces and the admin page shows: administrator roles, the
 * continuity event limits and status labels, the audit categories. Pure values (no Node APIs, no
 * mongoose): the admin bundle imports this module, so it must never import anything.
 */

/** Administrator roles, weakest first (a role may do what every role before it may). */
export const ROLES = ['readOnly', 'basicAdministrator', 'fullAdministrator'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  readOnly: 'Read-only administrator',
  basicAdministrator: 'Basic administrator',
  fullAdministrator: 'Full administrator',
};

/** What a continuity event may hold: text lengths in characters, times in days and hours. */
export const EVENT_LIMITS = {
  description: 200,
  notes: 500,
  appMessage: 250,
  smsMessage: 120,
  /** The continuity mailbox keeps this many days, so an event may start at most this long ago. */
  startPastDays: 5,
  /** The start SMS goes out at most this many hours before the start. */
  smsLeadHours: 24,
};

export const EVENT_STATUSES = ['pending', 'current', 'expired'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export const EVENT_STATUS_LABELS: Record<EventStatus, string> = { pending: 'Pending', current: 'Current', expired: 'Expired' };

/** The categories the audit trail files entries under (the admin page filters by them). */
export const AUDIT_CATEGORIES = ['continuity', 'directory', 'mail', 'monitor', 'notifications', 'configuration', 'security', 'protection'] as const;
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];
