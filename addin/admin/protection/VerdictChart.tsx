/**
 * Verdicts per hour (24 h) or per 6 hours (7 days) as stacked bars of the threat verdicts, drawn in
 * plain SVG; the figure has a text summary and the same numbers as a table (for screen readers and
 * anyone who prefers figures), so the chart itself is decoration for those who can see it.
 */
import { Text, tokens } from '@fluentui/react-components';
import type { DetectionSeries, VerdictKind } from '../contract';
import { ScrollTable } from '../common';
import { VERDICT_COLORS, VERDICT_LABELS } from './labels';

const STACKED: VerdictKind[] = ['phishing', 'malware', 'spoof', 'impersonation', 'spam', 'unscanned'];
const W = 720;
const H = 180;
const PAD = { left: 32, bottom: 20, top: 8 };

const label = (iso: string, range: '24h' | '7d') => {
  const d = new Date(iso);
  return range === '24h'
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString(undefined, { weekday: 'short', hour: '2-digit' });
};

export function VerdictChart({ series }: { series: DetectionSeries }) {
  const totals = series.points.map((p) => STACKED.reduce((n, v) => n + p.counts[v], 0));
  const max = Math.max(1, ...totals);
  const threats = totals.reduce((a, b) => a + b, 0);
  const clean = series.points.reduce((n, p) => n + p.counts.clean, 0);
  const bw = (W - PAD.left) / series.points.length;
  const y = (n: number) => ((H - PAD.bottom - PAD.top) * n) / max;
  const summary = `${threats} threats and ${clean} clean messages judged in the last ${series.range === '24h' ? '24 hours' : '7 days'}, per ${series.bucketHours === 1 ? 'hour' : `${series.bucketHours} hours`}.`;
  return (
    <figure style={{ margin: 0 }} data-testid="verdict-chart">
      {/* On a phone the chart keeps a readable size and scrolls sideways (focusable, so the keyboard can scroll it too). */}
      <div tabIndex={0} role="region" aria-label="Verdicts chart, scrollable" style={{ overflowX: 'auto' }}>
        <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={summary} style={{ maxHeight: 220, minWidth: 540 }}>
          <line x1={PAD.left} x2={W} y1={H - PAD.bottom} y2={H - PAD.bottom} stroke={tokens.colorNeutralStroke1} />
          <text x={PAD.left - 4} y={PAD.top + 8} textAnchor="end" fontSize="10" fill="#424242">
            {max}
          </text>
          <text x={PAD.left - 4} y={H - PAD.bottom} textAnchor="end" fontSize="10" fill="#424242">
            0
          </text>
          {series.points.map((p, i) => {
            let base = H - PAD.bottom;
            return (
              <g key={p.at}>
                {STACKED.map((v) => {
                  const h = y(p.counts[v]);
                  base -= h;
                  return h > 0 ? <rect key={v} x={PAD.left + i * bw + 1} y={base} width={Math.max(1, bw - 2)} height={h} fill={VERDICT_COLORS[v]} /> : null;
                })}
                {i % Math.ceil(series.points.length / 6) === 0 && (
                  <text x={PAD.left + i * bw} y={H - 6} fontSize="10" fill="#424242">
                    {label(p.at, series.range)}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </div>
      <figcaption>
        <Text size={200}>{summary}</Text>{' '}
        <span style={{ display: 'inline-flex', flexWrap: 'wrap', gap: 8 }} aria-hidden="true">
          {STACKED.map((v) => (
            <Text size={200} key={v}>
              <span style={{ display: 'inline-block', width: 10, height: 10, background: VERDICT_COLORS[v], marginRight: 4 }} />
              {VERDICT_LABELS[v]}
            </Text>
          ))}
        </span>
      </figcaption>
      <details>
        <summary>Show the numbers as a table</summary>
        <ScrollTable
          label="Verdicts per period"
          testId="verdict-table"
          minWidth={640}
          rows={series.points.filter((p) => Object.values(p.counts).some((n) => n > 0))}
          rowKey={(p) => p.at}
          columns={[
            { header: 'From', cell: (p) => new Date(p.at).toLocaleString() },
            ...(['clean', ...STACKED] as VerdictKind[]).map((v) => ({
              header: VERDICT_LABELS[v],
              cell: (p: DetectionSeries['points'][number]) => p.counts[v],
            })),
          ]}
        />
      </details>
    </figure>
  );
}
