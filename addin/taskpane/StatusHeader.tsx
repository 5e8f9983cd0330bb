import { Card, Text, Title3, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import type { ContinuityEvent, ContinuityStatus } from '../lib/status';
import { headerState } from '../lib/status';
import { formatShort } from '../lib/compose';
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
  const card = (tone: 'normal' | 'active' | 'restored', title: string, body: ReactNode) => (
    <Card className={mergeClasses(styles.card, styles[tone])} data-testid="header-state" data-state={tone} role={tone === 'active' ? 'alert' : 'status'}>
      <Title3 as="h2" className={styles.title}>
        {title}
      </Title3>
      {body}
    </Card>
  );
  /** One event: its description, the message for this state, and when. */
  const eventLines = (events: ContinuityEvent[], which: 'start' | 'end') =>
    events.map((event) => {
      const message = which === 'start' ? event.startMessage : event.endMessage;
      const when = which === 'start' ? event.start : event.end;
      return (
        <div key={event.id} className={styles.event}>
          <Text weight="semibold" className={styles.message}>
            {event.description}
          </Text>
          {message ? (
            <Text className={styles.message} data-testid={`${which}-message`}>
              {message}
            </Text>
          ) : null}
          {when ? (
            <Text size={200} className={styles.meta}>
              {which === 'start' ? 'Since' : 'Ended'} {event.timeZone ? `${formatShort(when, event.timeZone)} (${event.timeZone})` : hhmm(when)}
            </Text>
          ) : null}
        </div>
      );
    });
  switch (state.kind) {
    case 'normal':
      return card('normal', 'Normal', <Text>Email is working normally. If an outage is declared for you, it will show here.</Text>);
    case 'active':
      return card(
        'active',
        'Continuity active',
        state.events.length > 0 ? eventLines(state.events, 'start') : <Text>Lifeboat is handling your email while the mail service is down.</Text>,
      );
    case 'restored':
      return card('restored', 'Service restored', eventLines(state.events, 'end'));
  }
}
