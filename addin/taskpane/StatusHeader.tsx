import { Card, Text, Title3, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import type { ContinuityStatus } from '../lib/status';
import { headerState } from '../lib/status';
import { hhmm } from '../lib/time';

const useStyles = makeStyles({
  card: { borderLeftWidth: '6px', borderLeftStyle: 'solid', rowGap: '6px' },
  title: { margin: 0 },
  normal: { borderLeftColor: tokens.colorPaletteGreenBorder2, backgroundColor: tokens.colorPaletteGreenBackground1 },
  active: { borderLeftColor: tokens.colorPaletteRedBorder2, backgroundColor: tokens.colorPaletteRedBackground1 },
  restored: { borderLeftColor: tokens.colorBrandStroke1, backgroundColor: tokens.colorBrandBackground2 },
  event: { display: 'flex', flexDirection: 'column', rowGap: '2px' },
  message: { whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' },
  meta: { color: tokens.colorNeutralForeground3 },
});

/** Normal / Continuity active / Service restored, from the latest status. */
export function StatusHeader({ status }: { status: ContinuityStatus }) {
  const styles = useStyles();
  const state = headerState(status);
  if (state.kind === 'normal') {
    return (
      <Card className={mergeClasses(styles.card, styles.normal)} data-testid="header-state" data-state="normal" role="status">
        <Title3 as="h2" className={styles.title}>Normal</Title3>
        <Text>Email is working normally. If an outage is declared for you, it will show here.</Text>
      </Card>
    );
  }
  if (state.kind === 'active') {
    return (
      <Card className={mergeClasses(styles.card, styles.active)} data-testid="header-state" data-state="active" role="alert">
        <Title3 as="h2" className={styles.title}>Continuity active</Title3>
        {state.events.map((event) => (
          <div key={event.id} className={styles.event}>
            <Text weight="semibold" className={styles.message}>{event.description}</Text>
            {event.startMessage ? <Text className={styles.message} data-testid="start-message">{event.startMessage}</Text> : null}
            {event.start ? <Text size={200} className={styles.meta}>Since {hhmm(event.start)}</Text> : null}
          </div>
        ))}
        {state.events.length === 0 ? <Text>Lifeboat is handling your email while the mail service is down.</Text> : null}
      </Card>
    );
  }
  return (
    <Card className={mergeClasses(styles.card, styles.restored)} data-testid="header-state" data-state="restored" role="status">
      <Title3 as="h2" className={styles.title}>Service restored</Title3>
      {state.events.map((event) => (
        <div key={event.id} className={styles.event}>
          <Text weight="semibold" className={styles.message}>{event.description}</Text>
          <Text className={styles.message} data-testid="end-message">{event.endMessage}</Text>
          {event.end ? <Text size={200} className={styles.meta}>Ended {hhmm(event.end)}</Text> : null}
        </div>
      ))}
    </Card>
  );
}
