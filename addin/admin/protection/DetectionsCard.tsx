/** The detections log: verdicts per hour (chart + table), then the filtered log newest first with "Load more" and the same filters as CSV. */
import { Badge, Button, Card, Field, Input, Link, Select, Subtitle1, Tab, TabList, Text } from '@fluentui/react-components';
import { useCallback, useState, type FormEvent } from 'react';
import { detections, type DetectionFilter } from '../client';
import { Empty, ErrorBar, Hint, Loading, ScrollTable, Show, useLoad } from '../common';
import type { Detection, VerdictKind } from '../contract';
import { usePages } from '../paging';
import { browserZone, localInputValue, showInstant } from '../time';
import { VERDICT_LABELS } from './labels';
import { VerdictChart } from './VerdictChart';

/** Long addresses break anywhere instead of running into the next column. */
const WRAP = { overflowWrap: 'anywhere', wordBreak: 'break-word' } as const;

export interface Filters {
  verdict: string;
  kind: string;
  from: string;
  to: string;
}

function params(f: Filters): DetectionFilter {
  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  return { verdict: f.verdict as DetectionFilter['verdict'], kind: f.kind as DetectionFilter['kind'], from: iso(f.from), to: iso(f.to) };
}

/** The detections log's address for a time window (`#protection/detections?from=…&to=…`, ISO instants). */
export const detectionsHref = (span: { from: string; to: string | null }) =>
  `#protection/detections?${new URLSearchParams(span.to ? { from: span.from, to: span.to } : { from: span.from })}`;

/** The window a `detectionsHref` address names, as the filters' local-time fields (whole minutes that cover it). */
export function windowOfHash(hash: string): Partial<Filters> | null {
  const m = /^#protection\/detections(?:\?(.*))?$/.exec(hash);
  if (!m) return null;
  const q = new URLSearchParams(m[1] ?? '');
  const minute = (iso: string | null, up: boolean) => {
    const at = iso ? Date.parse(iso) : NaN;
    if (Number.isNaN(at)) return '';
    const whole = up ? Math.ceil(at / 60_000) * 60_000 : Math.floor(at / 60_000) * 60_000;
    return localInputValue(new Date(whole), browserZone());
  };
  return { from: minute(q.get('from'), false), to: minute(q.get('to'), true) };
}

export function DetectionsCard({ initial }: { initial?: Partial<Filters> | null }) {
  const [range, setRange] = useState<'24h' | '7d'>('24h');
  const loadSeries = useCallback(() => detections.series(range), [range]);
  const [series] = useLoad(loadSeries);
  const [draft, setDraft] = useState<Filters>({ verdict: 'threats', kind: '', from: '', to: '', ...initial });
  const [applied, setApplied] = useState<Filters>(draft);
  const fetchPage = useCallback((cursor: string | null) => detections.list(params(applied), cursor, 50), [applied]);
  const { items, hasMore, error, busy, loadMore, reset } = usePages(fetchPage);
  const fieldError = (path: string) => error?.fieldErrors.find((e) => e.path === path)?.message;

  const apply = (e: FormEvent) => {
    e.preventDefault();
    reset();
    setApplied({ ...draft });
  };

  return (
    <Card data-testid="detections-card">
      <Subtitle1 as="h2">Detections</Subtitle1>
      <TabList selectedValue={range} onTabSelect={(_, d) => setRange(d.value as '24h' | '7d')} size="small" aria-label="Chart period">
        <Tab value="24h">Last 24 hours</Tab>
        <Tab value="7d">Last 7 days</Tab>
      </TabList>
      <Show value={series} label="Loading the verdicts per hour…">
        {(s) => <VerdictChart series={s} />}
      </Show>
      <form
        onSubmit={apply}
        aria-label="Detection filters"
        style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(200px, 1fr))', gap: 12, alignItems: 'end' }}
      >
        <Field label="Verdict" validationMessage={fieldError('verdict')}>
          <Select value={draft.verdict} onChange={(_, d) => setDraft({ ...draft, verdict: d.value })}>
            <option value="threats">Threats (everything but clean)</option>
            <option value="">All, clean included</option>
            {(Object.keys(VERDICT_LABELS) as VerdictKind[]).map((v) => (
              <option key={v} value={v}>
                {VERDICT_LABELS[v]}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Source" validationMessage={fieldError('kind')}>
          <Select value={draft.kind} onChange={(_, d) => setDraft({ ...draft, kind: d.value })}>
            <option value="">Verdicts and user reports</option>
            <option value="verdict">Verdicts only</option>
            <option value="report">Reported by users</option>
          </Select>
        </Field>
        <Field label="From (your local time)" validationMessage={fieldError('from')}>
          <Input type="datetime-local" value={draft.from} onChange={(_, d) => setDraft({ ...draft, from: d.value })} />
        </Field>
        <Field label="To (your local time)" validationMessage={fieldError('to')}>
          <Input type="datetime-local" value={draft.to} onChange={(_, d) => setDraft({ ...draft, to: d.value })} />
        </Field>
        <Button type="submit">Apply filters</Button>
      </form>
      <Link href={detections.csvUrl(params(applied))} download data-testid="detections-csv">
        Export these detections as CSV
      </Link>
      {error && <ErrorBar error={error} title="Could not load the detections" />}
      {items === null && !error && <Loading label="Loading detections…" />}
      {items?.length === 0 && <Empty>No detections match these filters.</Empty>}
      {items && items.length > 0 && (
        <ScrollTable<Detection>
          label="Detections"
          testId="detections-table"
          rowTestId="detection-row"
          minWidth={860}
          rows={items}
          rowKey={(d) => d.id}
          columns={[
            { header: 'When', cell: (d) => showInstant(d.at) },
            {
              header: 'Verdict',
              cell: (d) =>
                d.kind === 'report' ? (
                  <span style={WRAP}>
                    <Badge color="important">Reported</Badge> by {d.reportedBy}
                  </span>
                ) : (
                  <span>{d.verdict ? VERDICT_LABELS[d.verdict] : '—'}</span>
                ),
            },
            // A Graph verdict (Threat Scan, continuous protection) was judged in the mailbox, after delivery.
            { header: 'Action', cell: (d) => d.actions.join(', ') || (d.source === 'graph' ? 'in mailbox (Graph)' : '—') },
            { header: 'From', cell: (d) => <span style={WRAP}>{d.from || d.mailFrom || '—'}</span> },
            { header: 'Subject', cell: (d) => <span style={WRAP}>{d.subject || '(no subject)'}</span> },
            { header: 'Recipients', cell: (d) => <span style={WRAP}>{d.recipients.join(', ')}</span> },
            { header: 'Why', cell: (d) => (d.kind === 'report' && d.comment ? `“${d.comment}”` : (d.reasons[0] ?? '—')), title: (d) => d.reasons.join('\n') },
          ]}
        />
      )}
      {hasMore && (
        <Button onClick={() => void loadMore()} disabled={busy}>
          {busy ? 'Loading…' : 'Load more'}
        </Button>
      )}
      <Hint>Times are in your browser’s time zone. The CSV is safe to open in a spreadsheet (formulas are neutralised).</Hint>
      {items && (
        <Text size={200}>
          {items.length} shown{hasMore ? '; more are available' : ''}.
        </Text>
      )}
    </Card>
  );
}
