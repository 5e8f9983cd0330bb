/**
 * "Send via Lifeboat" for the draft open in compose mode: read it through Office.js (recipients,
 * subject, HTML body, attachments), post it to the backend with an idempotency key, then discard the
 * Outlook draft so it is not sent again when Exchange returns (office/draft.ts says how and why).
 */
import { Button, Card, MessageBar, MessageBarBody, MessageBarTitle, ProgressBar, Text, Title3, makeStyles, tokens } from '@fluentui/react-components';
import { useEffect, useRef, useState } from 'react';
import type { Api, MailMessage } from '../../lib/api';
import { ApiError } from '../../lib/api';
import { newIdempotencyKey } from '../../lib/compose';
import { discardDraft, readDraft, type DiscardResult, type Draft } from '../../office/draft';
import { DeliveryList } from './ReadingView';

const useStyles = makeStyles({
  card: { rowGap: '8px' },
  title: { margin: 0 },
  muted: { color: tokens.colorNeutralForeground3 },
});

type Phase =
  | { kind: 'idle' }
  | { kind: 'working'; step: string; value?: number }
  | { kind: 'done'; sent: MailMessage; discard: DiscardResult; skipped: string[] }
  | { kind: 'discardFailed'; sent: MailMessage; error: string }
  | { kind: 'error'; error: string };

export function SendViaLifeboat(props: { api: Api; item: Office.MessageCompose; active: boolean; timeZone: string | undefined; onUnauthorized: () => void }) {
  const styles = useStyles();
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  // One key per draft (per pane): a retried click, or a retry after a lost answer, sends once.
  const key = useRef(newIdempotencyKey());

  const discard = async (sent: MailMessage, skipped: string[]) => {
    setPhase({ kind: 'working', step: 'Sent. Discarding the Outlook draft so it is not sent again…', value: 1 });
    try {
      const how = await discardDraft(props.item);
      setPhase({ kind: 'done', sent, discard: how, skipped });
    } catch (err) {
      setPhase({ kind: 'discardFailed', sent, error: (err as Error).message });
    }
  };

  const run = async () => {
    let draft: Draft;
    try {
      setPhase({ kind: 'working', step: 'Reading your draft…', value: 0.1 });
      draft = await readDraft(props.item, (p) => {
        if (p.phase === 'attachments' && p.total)
          setPhase({ kind: 'working', step: `Reading attachments (${p.done ?? 0} of ${p.total})…`, value: 0.1 + 0.4 * ((p.done ?? 0) / p.total) });
      });
    } catch (err) {
      setPhase({ kind: 'error', error: (err as Error).message });
      return;
    }
    if (!draft.to.length && !draft.cc.length && !draft.bcc.length) {
      setPhase({ kind: 'error', error: 'Add at least one recipient to the draft first.' });
      return;
    }
    let sent: MailMessage;
    try {
      const n = draft.to.length + draft.cc.length + draft.bcc.length;
      setPhase({
        kind: 'working',
        step: `Sending to ${n} recipient${n === 1 ? '' : 's'}${draft.attachments.length ? ` with ${draft.attachments.length} attachment${draft.attachments.length === 1 ? '' : 's'}` : ''}…`,
        value: 0.6,
      });
      sent = await props.api.send(
        { to: draft.to, cc: draft.cc, bcc: draft.bcc, subject: draft.subject, html: draft.html, attachments: draft.attachments },
        key.current,
      );
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError((err as Error).message, 0);
      if (e.unauthorized) props.onUnauthorized();
      setPhase({ kind: 'error', error: e.unreachable ? `${e.message} Nothing was lost: try again (it will be sent only once).` : e.message });
      return;
    }
    await discard(sent, draft.skipped);
  };

  // Follow the recipients' delivery statuses while any is queued (the pane may be closed by Outlook
  // with the draft; when it stays, the user sees the outcome).
  const sentId = phase.kind === 'done' ? phase.sent.id : null;
  const queued = phase.kind === 'done' && (phase.sent.deliveries ?? []).some((d) => d.state === 'queued');
  useEffect(() => {
    if (!sentId || !queued) return;
    const started = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - started > 120_000) return clearInterval(timer);
      props.api
        .message(sentId)
        .then((m) => setPhase((p) => (p.kind === 'done' && p.sent.id === m.id ? { ...p, sent: m } : p)))
        .catch(() => {});
    }, 2000);
    return () => clearInterval(timer);
  }, [sentId, queued, props.api]);

  const working = phase.kind === 'working';
  return (
    <Card className={styles.card} data-testid="send-via-lifeboat" data-phase={phase.kind}>
      <Title3 as="h2" className={styles.title}>
        Send via Lifeboat
      </Title3>
      {phase.kind === 'idle' || phase.kind === 'error' ? (
        <Text>
          {props.active
            ? 'Outlook cannot deliver mail during the outage. Lifeboat sends this draft for you — recipients, subject, body and attachments — and then discards it here so it is not sent twice.'
            : 'Continuity is not active: Outlook can send this itself. You can still send it through Lifeboat; the draft is then discarded here.'}
        </Text>
      ) : null}
      {working ? (
        <div data-testid="send-progress" role="status">
          <Text block>{phase.step}</Text>
          <ProgressBar value={phase.value} thickness="large" />
        </div>
      ) : null}
      {phase.kind === 'error' ? (
        <MessageBar intent="error" layout="multiline" data-testid="send-error">
          <MessageBarBody>
            <MessageBarTitle>Not sent</MessageBarTitle>
            <span style={{ display: 'block' }}>{phase.error}</span>
          </MessageBarBody>
        </MessageBar>
      ) : null}
      {phase.kind === 'done' || phase.kind === 'discardFailed' ? (
        <>
          <MessageBar intent={phase.kind === 'done' ? 'success' : 'warning'} layout="multiline" data-testid="send-result">
            <MessageBarBody>
              <MessageBarTitle>{phase.kind === 'done' ? 'Sent via Lifeboat' : 'Sent, but the draft is still here'}</MessageBarTitle>
              <span style={{ display: 'block' }}>
                {phase.kind === 'done'
                  ? phase.discard === 'discarded'
                    ? 'The Outlook draft was discarded, so it will not be sent again when Exchange returns.'
                    : 'The Outlook draft was emptied and closed, so it will not be sent again when Exchange returns. If Outlook asks, you can discard it.'
                  : `Outlook could not discard the draft (${phase.error}). Delete it yourself so it is not sent again when Exchange returns.`}
              </span>
              {phase.kind === 'done' && phase.skipped.length ? <span style={{ display: 'block' }}>Not sent: {phase.skipped.join(', ')}.</span> : null}
            </MessageBarBody>
          </MessageBar>
          {phase.sent.deliveries ? <DeliveryList deliveries={phase.sent.deliveries} timeZone={props.timeZone} /> : null}
          {phase.kind === 'discardFailed' ? (
            <Button onClick={() => void discard(phase.sent, [])} data-testid="discard-retry">
              Discard the draft
            </Button>
          ) : null}
        </>
      ) : null}
      {phase.kind === 'idle' || phase.kind === 'error' ? (
        <Button appearance={props.active ? 'primary' : 'secondary'} onClick={() => void run()} disabled={working} data-testid="send-via-lifeboat-button">
          {phase.kind === 'error' ? 'Try again' : 'Send via Lifeboat'}
        </Button>
      ) : null}
      {phase.kind === 'idle' ? (
        <Text size={200} className={styles.muted}>
          Sent from your own address; replies come back to you.
        </Text>
      ) : null}
    </Card>
  );
}
