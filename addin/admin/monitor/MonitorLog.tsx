/** The monitor's latency chart and its detection log (filters, "Load more", CSV), in the monitor's time zone. */
import { Card, Field, Link, Select, Subtitle2, Tab, TabList, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useCallback, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { query } from '../api';
import { monitors } from '../client';
import type { MonitorView } from '../contract';
import { Empty, ErrorBar, Hint, Loading, ScrollTable, Show, useLoad } from '../common';
import { LoadMore, usePages } from '../paging';
import { when } from './time';

const useStyles = makeStyles({
  grid: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(220px, 1fr))', gap: '12px', alignItems: 'start' },
  card: { marginBottom: '16px', padding: '16px' },
  row: { display: 'flex', flexWrap: 'wrap', gap: '8px', alignItems: 'end' },
  label: { color: tokens.colorNeutralForeground3 },
  error: { color: tokens.colorPaletteRedForeground1, whiteSpace: 'normal' },
});

export function LatencyCard({ monitor }: { monitor: MonitorView }) {
  const s = useStyles();
  const [range, setRange] = useState<'24h' | '7d'>('24h');
  // Again when a new window was decided.
  const [series] = useLoad(
    useCallback(() => monitors.series(monitor.id, range), [monitor.id, range]),
    monitor.state.lastWindowStart,
  );
  const tick = (iso: string) =>
    new Intl.DateTimeFormat(
      'en-GB',
      range === '24h' ? { timeZone: monitor.timeZone, hour: '2-digit', minute: '2-digit' } : { timeZone: monitor.timeZone, day: 'numeric', month: 'short' },
    ).format(new Date(iso));
  return (
    <Card className={s.card}>
      <div className={s.row} style={{ justifyContent: 'space-between' }}>
        <Subtitle2 as="h2">Latency</Subtitle2>
        <TabList size="small" selectedValue={range} onTabSelect={(_, d) => setRange(d.value as '24h' | '7d')} aria-label="Chart range">
          <Tab value="24h">Last 24 hours</Tab>
          <Tab value="7d">Last 7 days</Tab>
        </TabList>
      </div>
      <Show value={series} label="Loading the latency series…">
        {(data) =>
          data.points.every((p) => p.outboundMs === null && p.inboundMs === null && p.failedChecks === 0) ? (
            <Empty>No measurements in this range yet.</Empty>
          ) : (
            <figure style={{ margin: 0 }} aria-label="Test message latency" data-testid="latency-chart">
              <div style={{ width: '100%', height: 260 }}>
                <ResponsiveContainer>
                  <LineChart data={data.points} margin={{ top: 8, right: 16, left: 0, bottom: 8 }}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="at" tickFormatter={tick} minTickGap={24} />
                    <YAxis yAxisId="ms" unit=" ms" width={70} />
                    <YAxis yAxisId="count" orientation="right" allowDecimals={false} width={40} />
                    <Tooltip labelFormatter={(v) => when(String(v), monitor.timeZone)} />
                    <Legend />
                    {/* Dots: a few measured buckets stay visible; gaps (no measurement) are bridged. */}
                    <Line
                      yAxisId="ms"
                      type="monotone"
                      dataKey="outboundMs"
                      name="Outbound (ms)"
                      stroke="#0f6cbd"
                      dot={{ r: 3 }}
                      connectNulls
                      isAnimationActive={false}
                    />
                    <Line
                      yAxisId="ms"
                      type="monotone"
                      dataKey="inboundMs"
                      name="Inbound (ms)"
                      stroke="#8a3707"
                      dot={{ r: 3 }}
                      connectNulls
                      isAnimationActive={false}
                    />
                    <Line
                      yAxisId="count"
                      type="stepAfter"
                      dataKey="failedChecks"
                      name="Failed checks (right axis)"
                      stroke="#c50f1f"
                      dot={false}
                      isAnimationActive={false}
                    />
                  </LineChart>
                </ResponsiveContainer>
              </div>
              <figcaption>
                <Hint>
                  Average latency per {data.bucketMinutes >= 60 ? `${data.bucketMinutes / 60} hours` : `${data.bucketMinutes} minutes`}; times in{' '}
                  {monitor.timeZone}.
                </Hint>
              </figcaption>
            </figure>
          )
        }
      </Show>
    </Card>
  );
}

interface LogFilters {
  check: string;
  outcome: string;
  decision: string;
}
const CHECKS = ['outbound', 'inbound', 'window'];
const OUTCOMES = ['ok', 'slow', 'failed', 'skipped', 'idle'];
const DECISIONS = ['below threshold', 'still detected', 'alert sent', 'suppressed', 'recovered', 'event started'];

export function LogCard({ monitor }: { monitor: MonitorView }) {
  const s = useStyles();
  const [filters, setFilters] = useState<LogFilters>({ check: '', outcome: '', decision: '' });
  const params = { check: filters.check, outcome: filters.outcome, decision: filters.decision };
  const fetchPage = useCallback(
    (cursor: string | null) => monitors.log(monitor.id, { check: filters.check, outcome: filters.outcome, decision: filters.decision }, cursor, 50),
    [monitor.id, filters.check, filters.outcome, filters.decision],
  );
  // Reload when the filters change or a new window was decided.
  const pages = usePages(fetchPage, monitor.state.lastWindowStart);
  const { items, error } = pages;

  const select = (label: string, key: keyof LogFilters, options: string[]) => (
    <Field label={label}>
      <Select value={filters[key]} onChange={(_, d) => setFilters({ ...filters, [key]: d.value })}>
        <option value="">All</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </Select>
    </Field>
  );

  return (
    <Card className={s.card}>
      <div className={s.row} style={{ justifyContent: 'space-between' }}>
        <Subtitle2 as="h2">Detection log</Subtitle2>
        <Link href={`/api/monitors/${monitor.id}/log/export.csv${query(params)}`} download data-testid="monitor-csv">
          Export these entries as CSV
        </Link>
      </div>
      <div className={s.grid} style={{ margin: '8px 0' }}>
        {select('Check', 'check', CHECKS)}
        {select('Outcome', 'outcome', OUTCOMES)}
        {select('Decision', 'decision', DECISIONS)}
      </div>
      {error && <ErrorBar error={error} title="Could not load the detection log" />}
      {items === null && !error && <Loading label="Loading the detection log…" />}
      {items?.length === 0 && <Empty>No log entries match. The first entries appear after the first window ({monitor.windowMinutes} min).</Empty>}
      {items && items.length > 0 && (
        <ScrollTable
          label="Detection log"
          testId="monitor-log"
          minWidth={900}
          rows={items}
          rowKey={(e) => e.id}
          columns={[
            { header: `Time (${monitor.timeZone})`, cell: (e) => when(e.at, monitor.timeZone) },
            { header: 'Check', cell: (e) => e.check },
            { header: 'Route / connector', cell: (e) => e.route ?? '—' },
            { header: 'Test message', cell: (e) => (e.probeId ? `${e.probeId.slice(0, 8)}… → ${e.address}` : '—') },
            { header: 'Latency', cell: (e) => (e.latencyMs === null ? '—' : `${e.latencyMs} ms`) },
            {
              header: 'Outcome',
              cell: (e) => (
                <>
                  {e.outcome}
                  {e.error && (
                    <Text size={200} block className={s.error}>
                      {e.error}
                    </Text>
                  )}
                </>
              ),
            },
            { header: 'Count', cell: (e) => e.failureCount },
            { header: 'Decision', cell: (e) => e.decision ?? '' },
          ]}
        />
      )}
      <LoadMore pages={pages} />
    </Card>
  );
}
