/**
 * The signed-in pane: the status header (or why it cannot be shown), the connection, Send via
 * Lifeboat for a draft, the continuity mailbox and SMS alerts. Presentational: state comes from the
 * pane's hooks.
 */
import { Button, MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle, Spinner, Text, makeStyles, tokens } from '@fluentui/react-components';
import type { Api } from '../lib/api';
import { ConnectionIndicator } from './ConnectionIndicator';
import type { ContinuityStatusView } from './hooks/useContinuityStatus';
import type { CurrentItem } from './hooks/useCurrentItem';
import type { MailView } from './hooks/useMailView';
import { MailPane } from './mail/MailPane';
import { SendViaLifeboat } from './mail/SendViaLifeboat';
import { SmsAlertsCard } from './SmsAlertsCard';
import { StatusHeader } from './StatusHeader';

const useStyles = makeStyles({
  detail: { display: 'block', marginTop: '2px' },
  who: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  center: { padding: '24px 0' },
  mailNote: { display: 'flex', flexDirection: 'column', rowGap: '6px', alignItems: 'flex-start' },
});

export function Home(props: {
  api: Api;
  continuity: ContinuityStatusView;
  item: CurrentItem;
  mail: MailView;
  /** The user's address (for reply-all), when known. */
  me: string | null;
  onUnauthorized: () => void;
}) {
  const styles = useStyles();
  const { api, continuity, item, mail, me, onUnauthorized } = props;
  const { status, error, loading } = continuity;
  const compose = item.compose;
  return (
    <>
      {status ? (
        <StatusHeader status={status} />
      ) : loading || !error ? (
        <Spinner size="small" className={styles.center} label="Getting your continuity status…" data-testid="loading" />
      ) : null}
      {error ? (
        <MessageBar intent="error" layout="multiline" data-testid="status-error">
          <MessageBarBody>
            <MessageBarTitle>{status ? 'Status may be out of date' : "Can't get your status"}</MessageBarTitle>
            <span className={styles.detail}>{error.message}</span>
          </MessageBarBody>
          <MessageBarActions>
            <Button size="small" onClick={() => void continuity.reload()} disabled={loading}>
              Retry
            </Button>
          </MessageBarActions>
        </MessageBar>
      ) : null}
      <ConnectionIndicator state={continuity.connection} lastUpdate={continuity.lastUpdate} />
      {compose && status ? (
        <SendViaLifeboat
          key={`compose-${item.version}`}
          api={api}
          item={compose}
          active={status.active}
          timeZone={mail.timeZone}
          onUnauthorized={onUnauthorized}
        />
      ) : null}
      {status && mail.show ? (
        <>
          {!status.active && !compose ? (
            <MessageBar intent="info" layout="multiline" data-testid="mail-inactive-note">
              <MessageBarBody>
                <MessageBarTitle>Continuity is not active</MessageBarTitle>
                This is Lifeboat's copy of your recent mail (kept a few days). Your normal mailbox is working: use Outlook for everything else.
              </MessageBarBody>
              <MessageBarActions>
                <Button size="small" onClick={mail.close} data-testid="mail-close">
                  Close
                </Button>
              </MessageBarActions>
            </MessageBar>
          ) : null}
          <MailPane api={api} me={me} timeZone={mail.timeZone} since={mail.since} active={status.active} onUnauthorized={onUnauthorized} />
        </>
      ) : status ? (
        <div className={styles.mailNote}>
          <Text size={200} className={styles.who}>
            {compose
              ? 'Your continuity mailbox (Inbox and Sent) is one click away.'
              : 'The continuity mailbox (Inbox and Sent) opens here by itself during an outage.'}
          </Text>
          <Button size="small" onClick={mail.open} data-testid="mail-open">
            Open the continuity mailbox
          </Button>
        </div>
      ) : null}
      <SmsAlertsCard api={api} timeZone={mail.timeZone} onUnauthorized={onUnauthorized} />
    </>
  );
}
