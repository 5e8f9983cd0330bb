/**
 * The post-incident report of one event: what happened when (in the event's time zone), who was
 * covered, what mail flowed, what the server cannot know. Printable (print CSS hides the page chrome)
 * and downloadable as CSV.
 */
import {
  Badge,
  Button,
  Card,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Subtitle2,
  Text,
  Title2,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useCallback } from 'react';
import { EVENT_STATUS_LABELS as STATUS_LABELS } from '../../../server/shared/constants';
import { events } from '../client';
import type { EventReport } from '../contract';
import { Show, useLoad } from '../common';
import { CensusChart } from '../directory/CensusChart';
import { SmsRunList } from '../events/SmsRuns';
import { useContinuityChanges } from '../live';
import { detectionsHref } from '../protection/DetectionsCard';
import { VERDICT_LABELS } from '../protection/labels';
import type { VerdictKind } from '../contract';
import { offsetOf, showLocal } from '../time';

const useStyles = makeStyles({
  page: { display: 'flex', flexDirection: 'column', rowGap: '16px' },
  head: { display: 'flex', flexWrap: 'wrap', justifyContent: 'space-between', alignItems: 'flex-start', gap: '8px' },
  title: { margin: 0 },
  actions: { display: 'flex', flexWrap: 'wrap', gap: '8px', alignItems: 'center' },
  card: { display: 'flex', flexDirection: 'column', rowGap: '8px', breakInside: 'avoid' },
  facts: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(200px, 1fr))', gap: '6px 16px', margin: 0 },
  term: { color: tokens.colorNeutralForeground3, fontSize: tokens.fontSizeBase200 },
  def: { margin: 0, overflowWrap: 'anywhere' },
  figures: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(150px, 1fr))', gap: '8px', margin: 0 },
  figure: { padding: '8px 12px', borderRadius: tokens.borderRadiusMedium, backgroundColor: tokens.colorNeutralBackground2, margin: 0, breakInside: 'avoid' },
  figureValue: { fontSize: tokens.fontSizeHero700, lineHeight: tokens.lineHeightHero700, fontWeight: tokens.fontWeightSemibold, margin: 0, display: 'block' },
  figureNote: { color: tokens.colorNeutralForeground3, fontSize: tokens.fontSizeBase200, display: 'block', margin: 0 },
  timeline: { listStyle: 'none', margin: 0, padding: 0 },
  step: {
    display: 'grid',
    gridTemplateColumns: 'minmax(150px, 210px) minmax(0, 1fr)',
    gap: '4px 12px',
    padding: '8px 0',
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    breakInside: 'avoid',
    '@media (max-width: 520px)': { gridTemplateColumns: 'minmax(0, 1fr)' },
  },
  when: { fontVariantNumeric: 'tabular-nums' },
  muted: { color: tokens.colorNeutralForeground3, display: 'block', overflowWrap: 'anywhere' },
  unknowns: { margin: 0, paddingLeft: '20px', display: 'flex', flexDirection: 'column', rowGap: '6px' },
});

/** Hides the admin page's chrome (header, tabs, buttons) on paper; cards do not split across pages. */
const PRINT_CSS = `@media print {
  header, nav, [data-print="hide"] { display: none !important; }
  main { max-width: none !important; padding: 0 !important; }
  body { background: #fff; }
}`;

/** "Mon 28 Mar 2027, 09:30:15" from a zoned ISO time. */
function withSeconds(local: string | null): string {
  if (!local) return '—';
  const seconds = /T\d{2}:\d{2}:(\d{2})/.exec(local)?.[1];
  return seconds ? `${showLocal(local)}:${seconds}` : showLocal(local);
}

function duration(minutes: number | null): string {
  if (minutes === null) return 'Not started';
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h < 48) return `${h} h ${m} min`;
  return `${Math.floor(h / 24)} days ${h % 24} h`;
}

export function ReportPage({ eventId, onBack }: { eventId: string; onBack: () => void }) {
  const c = useStyles();
  const [report, reload] = useLoad(useCallback(() => events.report(eventId), [eventId]));
  // A current event's figures move: follow its status changes.
  useContinuityChanges(() => void reload());

  return (
    <section aria-labelledby="page-title" className={c.page} data-testid="event-report">
      <style>{PRINT_CSS}</style>
      <div className={c.head}>
        <Title2 as="h1" id="page-title" className={c.title}>
          Post-incident report
        </Title2>
        <div className={c.actions} data-print="hide">
          <Button onClick={onBack}>Back to events</Button>
          <Button onClick={() => window.print()} disabled={report.state !== 'ready'}>
            Print
          </Button>
          <Link href={`/api/events/${encodeURIComponent(eventId)}/report.csv`} download data-testid="report-csv">
            Download CSV
          </Link>
        </div>
      </div>
      <Show value={report} label="Loading the report…">
        {(r) => <Body report={r} />}
      </Show>
    </section>
  );
}

function Body({ report: r }: { report: EventReport }) {
  const c = useStyles();
  const zone = `${r.event.timeZone} (${offsetOf(r.event.startLocal)})`;
  const facts: [string, string][] = [
    ['Event', r.event.description],
    ['Status', `${STATUS_LABELS[r.event.status]}${r.event.endedEarly ? ' (ended early with End Now)' : ''}`],
    ['Affected group', r.event.affectedGroup.displayName ?? r.event.affectedGroup.id],
    ['Time zone', zone],
    ['Scheduled start', showLocal(r.event.startLocal)],
    ['End', r.event.endLocal ? showLocal(r.event.endLocal) : 'Eternal (until ended)'],
    ['Duration', duration(r.durationMinutes)],
    ['Created by', r.event.createdBy ?? '—'],
  ];
  const held = r.mail.pausedInbound;
  const figures: Figure[] = [
    { id: 'users', label: 'Users covered', value: r.users.affected, note: 'Members of the affected group now' },
    {
      id: 'banner',
      label: 'Users whose pane received the start banner',
      value: r.users.bannerReceived.count,
      note: `${r.users.bannerReceived.percent === null ? '—' : `${r.users.bannerReceived.percent}%`} of users covered (their panes acknowledged it)`,
    },
    { id: 'received', label: 'Mail received in continuity mailboxes', value: r.mail.received, note: 'Copies for covered users during the event' },
    { id: 'sent', label: 'Messages sent through Lifeboat', value: r.mail.sent },
    { id: 'held', label: 'Inbound mail held', value: held ? r.mail.held : '—', note: held ? undefined : 'Inbound delivery was not paused' },
    {
      id: 'released',
      label: 'Held mail released',
      value: held ? r.mail.released : '—',
      note: held ? (r.mail.stillHeld ? `${r.mail.stillHeld} still held` : 'None still held') : 'Inbound delivery was not paused',
    },
    {
      id: 'clients-ready',
      label: 'Outlook clients ready for continuity',
      value: r.clients.ready,
      note: `of ${r.clients.reported} that reported (${r.clients.unknown} unknown, ${r.clients.notCapable} cannot)`,
    },
  ];
  const d = r.detectionToStart;
  if (d)
    figures.push({
      id: 'detection-to-start',
      label: 'Time from detection to event start',
      value: `${d.minutes} min`,
      note: `Detected ${withSeconds(d.detectedAtLocal)} by monitor ${d.monitorName ?? '(deleted)'}; started ${d.startedVia === 'portal' ? 'from the portal link' : 'by auto-activation'}`,
    });

  return (
    <>
      {!r.final && (
        <MessageBar intent="warning" data-testid="report-not-final">
          <MessageBarBody>
            <MessageBarTitle>{r.event.status === 'pending' ? 'This event has not started' : 'This event is still running'}</MessageBarTitle>
            The figures below are as of {withSeconds(r.generatedAtLocal)} and still change; the report is final once the event has ended.
          </MessageBarBody>
        </MessageBar>
      )}
      <Card className={c.card}>
        <Subtitle2 as="h2">Summary</Subtitle2>
        <dl className={c.facts}>
          {facts.map(([term, def]) => (
            <div key={term}>
              <dt className={c.term}>{term}</dt>
              <dd className={c.def}>{def}</dd>
            </div>
          ))}
        </dl>
      </Card>
      <Card className={c.card}>
        <Subtitle2 as="h2">Figures</Subtitle2>
        <FigureGrid label="Figures" testIdPrefix="figure-" figures={figures} />
        {r.clients.reported > 0 && <CensusChart summary={{ total: r.clients.reported, byKind: r.clients.byKind, readiness: r.clients }} />}
      </Card>
      {r.protection && (
        <ThreatFigures protection={r.protection} href={detectionsHref({ from: r.event.start, to: r.event.status === 'expired' ? r.event.end : null })} />
      )}
      {r.sms && (
        <Card className={c.card} data-testid="report-sms">
          <Subtitle2 as="h2">SMS to {r.sms.group?.displayName ?? 'the SMS group'}</Subtitle2>
          <SmsRunList runs={r.sms.runs} />
        </Card>
      )}
      <Card className={c.card}>
        <Subtitle2 as="h2">Timeline</Subtitle2>
        <Text size={200} className={c.muted}>
          Times in the event’s time zone, {zone}.
        </Text>
        {r.timeline.length === 0 ? (
          <Text>Nothing recorded yet.</Text>
        ) : (
          <ol className={c.timeline} aria-label="Timeline" data-testid="report-timeline">
            {r.timeline.map((t, i) => (
              <li key={i} className={c.step} data-kind={t.kind}>
                <Text className={c.when}>{withSeconds(t.atLocal)}</Text>
                <div>
                  <Text weight="semibold">{t.title}</Text>
                  <Text size={200} className={c.muted}>
                    {[t.by === 'scheduler' ? 'Lifeboat scheduler' : `By ${t.by}`, t.detail].filter(Boolean).join(' · ')}
                  </Text>
                </div>
              </li>
            ))}
          </ol>
        )}
      </Card>
      {r.unknowns.length > 0 && (
        <Card className={c.card}>
          <Subtitle2 as="h2">Not recorded</Subtitle2>
          <ul className={c.unknowns} data-testid="report-unknowns">
            {r.unknowns.map((u) => (
              <li key={u.metric}>
                <Badge appearance="outline" color="informative">
                  Unknown
                </Badge>{' '}
                <Text weight="semibold">{u.label}</Text>: <Text>{u.reason}</Text>
              </li>
            ))}
          </ul>
        </Card>
      )}
      <Text size={200} className={c.muted} data-testid="report-generated">
        Generated {withSeconds(r.generatedAtLocal)} ({r.event.timeZone}) by Lifeboat.
      </Text>
    </>
  );
}

interface Figure {
  id: string;
  label: string;
  value: string | number;
  note?: string;
}

/** A report section's figures: label, the number large, an optional note. */
function FigureGrid({ label, testIdPrefix, figures }: { label: string; testIdPrefix: string; figures: Figure[] }) {
  const c = useStyles();
  return (
    <dl className={c.figures} aria-label={label}>
      {figures.map((f) => (
        <div key={f.id} className={c.figure} data-testid={`${testIdPrefix}${f.id}`}>
          <dt className={c.term}>{f.label}</dt>
          <dd className={c.figureValue}>{f.value}</dd>
          {f.note && <dd className={c.figureNote}>{f.note}</dd>}
        </div>
      ))}
    </dl>
  );
}

/** Threats on the mail path during the event: the outage is when attackers try hardest. */
function ThreatFigures({ protection: p, href }: { protection: NonNullable<EventReport['protection']>; href: string }) {
  const c = useStyles();
  const byVerdict = (Object.entries(p.byVerdict) as [VerdictKind, number | undefined][]).filter(([, n]) => n);
  const figures = [
    { id: 'threats', label: 'Threats judged on the mail path', value: p.threats },
    { id: 'quarantined', label: 'Quarantined', value: p.quarantined },
    { id: 'tagged', label: 'Delivered tagged', value: p.tagged },
    { id: 'reported', label: 'Reported as phishing by users', value: p.reportedByUsers },
  ];
  return (
    <Card className={c.card} data-testid="report-protection">
      <Subtitle2 as="h2">Protection</Subtitle2>
      <FigureGrid label="Protection figures" testIdPrefix="threat-figure-" figures={figures} />
      <Text size={200} data-testid="threats-by-verdict">
        {byVerdict.length
          ? `By verdict: ${byVerdict.map(([v, n]) => `${VERDICT_LABELS[v] ?? v} ${n}`).join(', ')}.`
          : 'No threats were judged during the event.'}
      </Text>
      <Text size={200} className={c.muted}>
        {p.basis}{' '}
        <Link href={href} data-testid="report-detections-link">
          Open the event’s detections
        </Link>
      </Text>
    </Card>
  );
}
