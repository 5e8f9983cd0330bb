import { Text, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import type { ConnectionState } from '../lib/socket';
import { hhmm } from '../lib/time';

const useStyles = makeStyles({
  row: { display: 'flex', alignItems: 'center', columnGap: '6px', flexWrap: 'wrap' },
  dot: { width: '8px', height: '8px', borderRadius: '50%', flexShrink: 0 },
  live: { backgroundColor: tokens.colorPaletteGreenForeground1 },
  waiting: { backgroundColor: tokens.colorPaletteMarigoldForeground1 },
  offline: { backgroundColor: tokens.colorPaletteRedForeground1 },
  meta: { color: tokens.colorNeutralForeground3 },
});

export function connectionText(state: ConnectionState): string {
  switch (state.kind) {
    case 'connecting':
      return 'Connecting…';
    case 'live':
      return 'Live';
    case 'reconnecting':
      return `Reconnecting… (lost at ${hhmm(state.since)})`;
    case 'offline':
      return `Offline since ${hhmm(state.since)}`;
  }
}

/** live / reconnecting / offline since HH:MM, and when the status was last updated. */
export function ConnectionIndicator({ state, lastUpdate }: { state: ConnectionState; lastUpdate: number | null }) {
  const styles = useStyles();
  const dot = state.kind === 'live' ? styles.live : state.kind === 'offline' ? styles.offline : styles.waiting;
  return (
    <div className={styles.row} data-testid="connection" data-state={state.kind} aria-live="polite">
      <span className={mergeClasses(styles.dot, dot)} aria-hidden="true" />
      <Text size={200}>{connectionText(state)}</Text>
      <Text size={200} className={styles.meta} data-testid="last-update">
        · {lastUpdate === null ? 'No update yet' : `Updated ${hhmm(lastUpdate)}`}
      </Text>
    </div>
  );
}
