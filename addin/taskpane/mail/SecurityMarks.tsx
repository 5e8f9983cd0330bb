/**
 * What protection says about a message, in the reading view of the pane and the web inbox: a warning
 * banner on a message delivered tagged, an External mark for a sender outside the organisation, the
 * sender authentication results, and Report phishing (recorded for the admins).
 */
import { Badge, Button, Caption1, MessageBar, MessageBarBody, MessageBarTitle, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useState } from 'react';
import type { Api, MailMessage, MessageSecurity } from '../../lib/api';

const useStyles = makeStyles({
  row: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', columnGap: '6px', rowGap: '4px' },
  auth: { color: tokens.colorNeutralForeground2, overflowWrap: 'anywhere' },
  done: { color: tokens.colorNeutralForeground2 },
});

const WARNING: Record<string, { title: string; text: string }> = {
  spam: { title: 'This looks like spam', text: 'Lifeboat’s scan found this message to be spam. Do not reply or open its links unless you expected it.' },
  phishing: {
    title: 'This may be a phishing message',
    text: 'It may try to steal passwords or money. Do not open links or attachments, and do not reply with any details.',
  },
  malware: { title: 'This message may carry malware', text: 'Do not open its attachments.' },
  spoof: {
    title: 'The sender could not be verified',
    text: 'The message claims a sender whose domain did not authenticate it. It may be forged: be careful with requests for money or data.',
  },
  impersonation: {
    title: 'The sender may be impersonating someone',
    text: 'The name or domain looks like someone in your organisation, but the message came from outside.',
  },
  unscanned: {
    title: 'This message could not be scanned',
    text: 'The scanners were unavailable, so it was delivered without a full check. Treat links and attachments with care.',
  },
};

const RESULT_COLOR = (r: string) => (r === 'pass' ? 'success' : r === 'fail' || r === 'softfail' ? 'danger' : 'informative');

/** The banner over a tagged message (and the External mark) at the top of the reading view. */
export function SecurityBanner({ message }: { message: MailMessage }) {
  const styles = useStyles();
  const security = message.security;
  const warning = security?.action === 'tag' && security.verdict ? WARNING[security.verdict] : undefined;
  return (
    <>
      {warning && (
        <MessageBar intent="warning" layout="multiline" data-testid="security-banner" data-verdict={security?.verdict}>
          <MessageBarBody>
            <MessageBarTitle>{warning.title}</MessageBarTitle>
            <span style={{ display: 'block' }}>{warning.text}</span>
            {security?.reasons[0] && <Caption1 style={{ display: 'block' }}>Why: {security.reasons[0]}</Caption1>}
          </MessageBarBody>
        </MessageBar>
      )}
      {message.external && (
        <span className={styles.row}>
          <Badge appearance="filled" color="warning" data-testid="external-mark">
            External
          </Badge>
          <Caption1>The sender is outside your organisation.</Caption1>
        </span>
      )}
    </>
  );
}

/** SPF, DKIM, DMARC and ARC as the receiving server found them. */
export function AuthResults({ security }: { security: MessageSecurity | null | undefined }) {
  const styles = useStyles();
  if (!security?.auth) return null;
  const auth = security.auth;
  return (
    <div className={styles.row} data-testid="auth-results" aria-label="Sender authentication">
      <Caption1 className={styles.auth}>Sender checks:</Caption1>
      {(['spf', 'dkim', 'dmarc', 'arc'] as const).map((k) => (
        <Badge key={k} appearance="tint" color={RESULT_COLOR(auth[k])} data-testid={`auth-${k}`}>
          {k.toUpperCase()} {auth[k]}
        </Badge>
      ))}
      {security.score !== null && <Caption1 className={styles.auth}>Spam score {security.score}</Caption1>}
    </div>
  );
}

/** Report phishing: one click, then a confirmation that the admins were told. */
export function ReportPhishing({ api, message }: { api: Api; message: MailMessage }) {
  const styles = useStyles();
  const [state, setState] = useState<{ kind: 'idle' | 'busy' | 'done' | 'again' } | { kind: 'error'; text: string }>({ kind: 'idle' });
  if (message.folder !== 'inbox') return null;
  const report = async () => {
    setState({ kind: 'busy' });
    try {
      const r = await api.reportPhishing(message.id);
      setState({ kind: r.alreadyReported ? 'again' : 'done' });
    } catch (err) {
      setState({ kind: 'error', text: (err as Error).message });
    }
  };
  if (state.kind === 'done' || state.kind === 'again') {
    return (
      <Text role="status" className={styles.done} data-testid="phishing-reported">
        {state.kind === 'done' ? 'Reported: your administrators will look at it. Do not open its links.' : 'You already reported this message.'}
      </Text>
    );
  }
  return (
    <>
      <Button size="small" onClick={() => void report()} disabled={state.kind === 'busy'} data-testid="report-phishing">
        {state.kind === 'busy' ? 'Reporting…' : 'Report phishing'}
      </Button>
      {state.kind === 'error' && (
        <Text role="alert" style={{ color: tokens.colorPaletteRedForeground1 }}>
          Could not report it: {state.text}
        </Text>
      )}
    </>
  );
}
