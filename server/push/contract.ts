/**
 * The continuity status as users receive it: pushed as `continuity:status` and served by
 * `GET /api/me/status`. The task pane imports these types, so both sides share one contract.
 */

export interface ContinuityEvent {
  id: string;
  description: string;
  startMessage?: string;
  endMessage?: string;
  start: string;
  end: string | null;
  /** The event's IANA time zone: the pane shows times (mail dates too) in it. */
  timeZone?: string;
}

export interface ContinuityStatus {
  /** Grows monotonically per user: a status with a lower or equal seq is old news. */
  seq: number;
  active: boolean;
  events: ContinuityEvent[];
  at: string;
}
