/**
 * An event's SMS runs (start and end): sent, failed, pending and skipped with reasons, from
 * GET /api/events/:id. Shown on the event card and in the report, so "nothing was sent" is visible.
 */
import { Text } from '@fluentui/react-components';
import { useCallback } from 'react';
import { events } from '../client';
import type { SmsRun } from '../contract';
import { useLoad } from '../common';

export function describeRun(r: SmsRun): string {
  const kind = r.kind === 'start' ? 'Start SMS' : 'End SMS';
  if (!r.ranAt && r.sent + r.failed + r.pending === 0 && r.skipped.length === 0) return `${kind}: not sent yet.`;
  const parts = [`${r.sent} sent`];
  if (r.failed) parts.push(`${r.failed} failed`);
  if (r.pending) parts.push(`${r.pending} pending`);
  const skipped = r.skipped.map((x) => `${x.count} skipped (${x.reason})`);
  return `${kind}: ${[...parts, ...skipped].join(', ')} of ${r.groupMembers} group member(s).`;
}

export function SmsRunList({ runs }: { runs: SmsRun[] }) {
  if (runs.length === 0) return <Text size={200}>SMS: not sent yet.</Text>;
  return (
    <ul style={{ margin: 0, paddingLeft: 18 }} data-testid="sms-runs">
      {runs.map((r) => (
        <li key={r.kind}>
          <Text size={200}>{describeRun(r)}</Text>
        </li>
      ))}
    </ul>
  );
}

export function SmsRuns({ eventId }: { eventId: string }) {
  const [loaded] = useLoad(useCallback(() => events.get(eventId), [eventId]));
  if (loaded.state !== 'ready') return null;
  return <SmsRunList runs={loaded.data.sms?.runs ?? []} />;
}
