/** The add-in client census as a bar chart (recharts): which Outlook users run, and who can enter continuity mode. */
import { Text } from '@fluentui/react-components';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import type { ClientSummary } from '../contract';

const KIND_LABELS: Record<string, string> = {
  classicWindows: 'Classic Windows',
  mac: 'Mac',
  newOutlookWindows: 'New Outlook',
  web: 'Outlook on the web',
  mobile: 'Mobile',
  unknown: 'Unknown',
};

/** Per client kind: ready (Mac, or classic with cached mode confirmed), unknown (cached mode not confirmed), cannot. */
function rows(summary: ClientSummary) {
  return Object.entries(summary.byKind).map(([kind, v]) => {
    const confirmed = v.byCachedMode.confirmed ?? 0;
    const notConfirmed = v.byCachedMode.notConfirmed ?? 0;
    let ready = 0;
    let unknown = 0;
    let cannot = 0;
    if (kind === 'mac') ready = v.total;
    else if (kind === 'classicWindows') {
      ready = confirmed;
      cannot = notConfirmed;
      unknown = v.total - confirmed - notConfirmed;
    } else if (kind === 'unknown') unknown = v.total;
    else cannot = v.total;
    return { kind: KIND_LABELS[kind] ?? kind, ready, unknown, cannot };
  });
}

export function CensusChart({ summary }: { summary: ClientSummary }) {
  if (summary.total === 0) return <Text>No Outlook client has reported yet: users appear here once they open the Lifeboat add-in.</Text>;
  const data = rows(summary);
  return (
    <figure style={{ margin: 0 }} aria-label="Outlook clients by kind and continuity readiness" data-testid="census-chart">
      {/* Horizontal bars: the client names stay readable at phone width. No animation: nothing moves on its own. */}
      <div style={{ width: '100%', height: 60 + data.length * 40 }}>
        <ResponsiveContainer>
          <BarChart data={data} layout="vertical" margin={{ top: 8, right: 16, left: 8, bottom: 8 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis type="number" allowDecimals={false} />
            <YAxis type="category" dataKey="kind" width={130} tick={{ fontSize: 12 }} />
            <Tooltip />
            <Legend />
            <Bar dataKey="ready" name="Ready" stackId="a" fill="#107c10" isAnimationActive={false} />
            <Bar dataKey="unknown" name="Unknown (cached mode not confirmed)" stackId="a" fill="#8a6d00" isAnimationActive={false} />
            <Bar dataKey="cannot" name="Cannot enter continuity" stackId="a" fill="#c50f1f" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption>
        <Text size={200}>
          {summary.total} clients reported: {summary.readiness.ready} ready, {summary.readiness.unknown} unknown, {summary.readiness.notCapable} cannot enter
          continuity mode (they use the continuity inbox).
        </Text>
      </figcaption>
    </figure>
  );
}
