import { Button, Card, CardHeader, Link, Text, makeStyles, tokens } from '@fluentui/react-components';
import type { CachedModeAnswer, ClientClassification, ClientFacts } from '../office/client';

const useStyles = makeStyles({
  card: { rowGap: '8px' },
  body: { display: 'flex', flexDirection: 'column', rowGap: '6px' },
  buttons: { display: 'flex', columnGap: '8px', flexWrap: 'wrap' },
  steps: { margin: 0, paddingLeft: '18px' },
  meta: { color: tokens.colorNeutralForeground3 },
  ready: { color: tokens.colorPaletteGreenForeground1 },
  notReady: { color: tokens.colorPaletteRedForeground1 },
  unknown: { color: tokens.colorPaletteMarigoldForeground2 },
});

export interface ClientCardProps {
  client: ClientClassification;
  facts: ClientFacts;
  inOutlook: boolean;
  continuityInboxUrl: string;
  onAnswer: (answer: CachedModeAnswer) => void;
}

function Readiness({ ready }: { ready: boolean | 'unknown' }) {
  const styles = useStyles();
  if (ready === true)
    return (
      <Text weight="semibold" className={styles.ready}>
        Ready for continuity
      </Text>
    );
  if (ready === false)
    return (
      <Text weight="semibold" className={styles.notReady}>
        Can't enter continuity mode
      </Text>
    );
  return (
    <Text weight="semibold" className={styles.unknown}>
      Readiness unknown
    </Text>
  );
}

function CachedModeHelp() {
  const styles = useStyles();
  return (
    <details data-testid="cached-mode-help">
      <summary>How to check</summary>
      <ol className={styles.steps}>
        <li>In Outlook, choose File › Account Settings › Account Settings…</li>
        <li>Select your Exchange account and choose Change…</li>
        <li>Look at “Use Cached Exchange Mode”: it should be ticked.</li>
      </ol>
      <Text size={200}>Quick sign: the status bar says “Connected to: Microsoft Exchange” (cached), not “Online with: Microsoft Exchange”.</Text>
    </details>
  );
}

/** What this Outlook can do during an outage, said honestly. */
export function ClientCard({ client, facts, inOutlook, continuityInboxUrl, onAnswer }: ClientCardProps) {
  const styles = useStyles();
  const inbox = (
    <Link href={continuityInboxUrl} target="_blank" rel="noopener noreferrer" data-testid="continuity-inbox-link">
      continuity inbox
    </Link>
  );
  let body: React.ReactNode;
  switch (client.kind) {
    case 'classicWindows':
      if (client.cachedMode === 'notApplicable') {
        body = <Text>This account is not an Exchange mailbox, so Lifeboat's continuity does not apply to it.</Text>;
        break;
      }
      body = (
        <>
          <Text data-testid="cached-mode">
            {client.cachedMode === 'confirmed'
              ? 'Cached Exchange Mode: on (you confirmed it). Outlook keeps working from its local copy during an outage.'
              : client.cachedMode === 'notConfirmed'
                ? `Cached Exchange Mode: off (you said so). Turn it on, or use the continuity inbox during an outage.`
                : 'Cached Exchange Mode unknown. Outlook does not tell add-ins; please check and confirm.'}
          </Text>
          <CachedModeHelp />
          {client.cachedMode === 'unknown' ? (
            <div className={styles.buttons}>
              <Button appearance="primary" size="small" onClick={() => onAnswer('confirmed')}>
                Cached mode is on
              </Button>
              <Button size="small" onClick={() => onAnswer('notConfirmed')}>
                It's off
              </Button>
            </div>
          ) : (
            <div className={styles.buttons}>
              <Button size="small" appearance="subtle" onClick={() => onAnswer(null)}>
                Change my answer
              </Button>
            </div>
          )}
          {client.cachedMode === 'notConfirmed' ? <Text>During an outage, use your {inbox}.</Text> : null}
        </>
      );
      break;
    case 'mac':
      body = <Text>Outlook for Mac always keeps a copy of your mailbox on this Mac, so it keeps working during an outage.</Text>;
      break;
    case 'newOutlookWindows':
    case 'web':
    case 'mobile':
      body = (
        <Text>
          {client.label} has no offline copy of your mailbox (no Cached Exchange Mode), so it cannot enter continuity mode. During an outage, read and send your
          email in the Lifeboat {inbox}.
        </Text>
      );
      break;
    case 'unknown':
      body = (
        <Text>
          {inOutlook ? 'Lifeboat could not tell which Outlook this is. ' : 'This page is not running inside Outlook. Open Lifeboat from the Outlook ribbon. '}
          During an outage you can always use the {inbox}.
        </Text>
      );
      break;
  }
  return (
    <Card className={styles.card} data-testid="client-card" data-kind={client.kind} data-cached-mode={client.cachedMode}>
      <CardHeader header={<Text weight="semibold">{client.label}</Text>} description={<Readiness ready={client.canEnterContinuityMode} />} />
      <div className={styles.body}>{body}</div>
      <Text size={100} className={styles.meta}>
        {[facts.hostName, facts.platform, facts.accountType, facts.hostVersion].filter(Boolean).join(' · ') || 'No Outlook host information'}
      </Text>
    </Card>
  );
}
