/**
 * Whether the continuity mailbox is shown. During an event it opens by itself (except in compose
 * mode, where the pane is about the draft); once opened it stays open when the event ends, so a
 * reply being written is not lost, until the user closes it.
 */
import { useEffect, useState } from 'react';
import type { ContinuityStatus } from '../../lib/status';

export interface MailView {
  show: boolean;
  open: () => void;
  close: () => void;
  /** The event's time zone (the first event that has one), for showing times. */
  timeZone: string | undefined;
  /** When the earliest active event started (the mailbox shows mail from then). */
  since: string | null;
}

export function useMailView(status: ContinuityStatus | null, composing: boolean): MailView {
  const [mailOpen, setMailOpen] = useState(false);
  useEffect(() => {
    if (status?.active && !composing) setMailOpen(true);
  }, [status?.active, composing]);
  const timeZone = status?.events.find((e) => e.timeZone)?.timeZone ?? undefined;
  const since =
    status?.active && status.events.length
      ? (status.events
          .map((e) => e.start)
          .filter(Boolean)
          .sort()[0] ?? null)
      : null;
  return {
    show: (Boolean(status?.active) && !composing) || mailOpen,
    open: () => setMailOpen(true),
    close: () => setMailOpen(false),
    timeZone,
    since,
  };
}
