import {
  Badge,
  Button,
  Caption1,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Subtitle2,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { Api, Delivery, MailMessage } from '../../lib/api';
import type { ComposeMode } from '../../lib/compose';
import { displayMailbox, formatFull } from '../../lib/compose';
import { Paperclip } from './MessageList';
import { SafeHtml } from './SafeHtml';
import { AuthResults, ReportPhishing, SecurityBanner } from './SecurityMarks';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: '8px' },
  subject: { overflowWrap: 'anywhere' },
  head: { display: 'grid', gridTemplateColumns: 'auto 1fr', columnGap: '8px', rowGap: '2px' },
  label: { color: tokens.colorNeutralForeground3 },
  value: { overflowWrap: 'anywhere' },
  actions: { display: 'flex', flexWrap: 'wrap', columnGap: '6px', rowGap: '6px' },
  text: {
    whiteSpace: 'pre-wrap',
    overflowWrap: 'anywhere',
    fontFamily: 'inherit',
    margin: 0,
    padding: '8px',
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
  },
  files: { listStyleType: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', rowGap: '4px' },
  deliveries: { listStyleType: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', rowGap: '6px' },
  delivery: { display: 'flex', flexDirection: 'column', rowGap: '2px', padding: '6px 0', borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
  deliveryTop: { display: 'flex', justifyContent: 'space-between', columnGap: '8px', alignItems: 'center' },
  reply: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
});

/** The frame cannot be measured (it is sandboxed without same-origin access): a height from the content's length. */
export function frameHeight(html: string): number {
  const text = html.replace(/<[^>]*>/g, '').length;
  const blocks = (html.match(/<(p|div|br|tr|li|h\d|blockquote)\b/gi) ?? []).length;
  return Math.max(120, Math.min(480, 40 + 22 * (blocks + Math.ceil(text / 38))));
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const STATE_TEXT: Record<Delivery['state'], { label: string; color: 'warning' | 'success' | 'danger' }> = {
  queued: { label: 'Queued', color: 'warning' },
  sent: { label: 'Delivered to the next server', color: 'success' },
  failed: { label: 'Failed', color: 'danger' },
};

export function DeliveryList({ deliveries, timeZone }: { deliveries: Delivery[]; timeZone: string | undefined }) {
  const styles = useStyles();
  return (
    <ul className={styles.deliveries} data-testid="deliveries" aria-label="Delivery status">
      {deliveries.map((d) => (
        <li key={d.recipient} className={styles.delivery} data-testid="delivery" data-recipient={d.recipient} data-state={d.state}>
          <span className={styles.deliveryTop}>
            <Text className={styles.value}>{d.recipient}</Text>
            <Badge appearance="tint" color={STATE_TEXT[d.state].color}>
              {d.state === 'sent' ? 'Sent' : STATE_TEXT[d.state].label}
            </Badge>
          </span>
          <Caption1 className={styles.reply}>
            {d.state === 'sent'
              ? `Accepted by the receiving server${d.lastReply ? `: ${d.lastReply}` : ''}`
              : d.state === 'failed'
                ? `Not delivered${d.lastReply ? `: ${d.lastReply}` : ''}`
                : d.attempts > 0
                  ? `Tried ${d.attempts}×${d.lastReply ? ` (${d.lastReply})` : ''}; next try ${d.nextAttemptAt ? formatFull(d.nextAttemptAt, timeZone) : 'soon'}`
                  : 'Waiting to be sent'}
          </Caption1>
        </li>
      ))}
    </ul>
  );
}

export function ReadingView(props: {
  api: Api;
  message: MailMessage | null;
  loading: boolean;
  error: string | null;
  timeZone: string | undefined;
  onBack: () => void;
  onCompose: (mode: ComposeMode) => void;
  onRefresh: () => void;
}) {
  const styles = useStyles();
  const { message, timeZone } = props;
  const [downloading, setDownloading] = useState<number | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);

  const download = async (index: number, filename: string) => {
    if (!message) return;
    setDownloading(index);
    setDownloadError(null);
    try {
      const blob = await props.api.attachment(message.id, index);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      a.rel = 'noopener';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      setDownloadError(`Could not download ${filename}: ${(err as Error).message}`);
    } finally {
      setDownloading(null);
    }
  };

  const back = (
    <Link as="button" onClick={props.onBack} data-testid="mail-back">
      ‹ Back to {message?.folder === 'sent' ? 'Sent' : 'Inbox'}
    </Link>
  );
  if (props.loading && !message)
    return (
      <div className={styles.root}>
        {back}
        <Spinner size="small" label="Opening the message…" />
      </div>
    );
  if (!message) {
    return (
      <div className={styles.root}>
        {back}
        <MessageBar intent="error" layout="multiline" data-testid="reading-error">
          <MessageBarBody>
            <MessageBarTitle>Can't open this message</MessageBarTitle>
            <span style={{ display: 'block' }}>{props.error ?? 'It may have been removed.'}</span>
          </MessageBarBody>
        </MessageBar>
      </div>
    );
  }
  const rows: [string, string][] = [
    ['From', displayMailbox(message.from)],
    ['To', message.to.map(displayMailbox).join(', ')],
    ...(message.cc.length ? ([['Cc', message.cc.map(displayMailbox).join(', ')]] as [string, string][]) : []),
    ['Date', formatFull(message.date, timeZone)],
    ...(message.viaGroup ? ([['Via', message.viaGroup]] as [string, string][]) : []),
  ];
  return (
    <article className={styles.root} data-testid="reading" data-id={message.id}>
      {back}
      <SecurityBanner message={message} />
      <Subtitle2 as="h2" className={styles.subject} data-testid="reading-subject">
        {message.subject || '(no subject)'}
      </Subtitle2>
      <div className={styles.head}>
        {rows.map(([k, v]) => (
          <span key={k} style={{ display: 'contents' }}>
            <Caption1 className={styles.label}>{k}</Caption1>
            <Caption1 className={styles.value} data-testid={`reading-${k.toLowerCase()}`}>
              {v}
            </Caption1>
          </span>
        ))}
      </div>
      <AuthResults security={message.security} />
      <div className={styles.actions}>
        <Button size="small" onClick={() => props.onCompose('reply')} data-testid="reply">
          Reply
        </Button>
        <Button size="small" onClick={() => props.onCompose('replyAll')} data-testid="reply-all">
          Reply all
        </Button>
        <Button size="small" onClick={() => props.onCompose('forward')} data-testid="forward">
          Forward
        </Button>
        <ReportPhishing key={message.id} api={props.api} message={message} />
      </div>
      {message.html ? (
        <SafeHtml html={message.html} title={`Message: ${message.subject}`} height={frameHeight(message.html)} testId="reading-body" />
      ) : (
        <pre className={styles.text} data-testid="reading-text">
          {message.text || '(This message has no text.)'}
        </pre>
      )}
      {message.attachments.length ? (
        <section aria-label="Attachments">
          <Text weight="semibold" block>
            Attachments
          </Text>
          <ul className={styles.files} data-testid="attachments">
            {message.attachments.map((a) => (
              <li key={a.index}>
                <Link as="button" onClick={() => void download(a.index, a.filename)} disabled={downloading === a.index} data-testid="attachment">
                  <Paperclip /> {a.filename}
                </Link>{' '}
                <Caption1 className={styles.label}>
                  ({size(a.size)}){downloading === a.index ? ' downloading…' : ''}
                </Caption1>
              </li>
            ))}
          </ul>
          {downloadError ? (
            <Text role="alert" style={{ color: tokens.colorPaletteRedForeground1 }}>
              {downloadError}
            </Text>
          ) : null}
        </section>
      ) : null}
      {message.deliveries ? (
        <section aria-label="Delivery status">
          <span style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
            <Text weight="semibold">Delivery</Text>
            <Button size="small" appearance="subtle" onClick={props.onRefresh} disabled={props.loading} data-testid="deliveries-refresh">
              {props.loading ? 'Refreshing…' : 'Refresh'}
            </Button>
          </span>
          <DeliveryList deliveries={message.deliveries} timeZone={timeZone} />
        </section>
      ) : null}
    </article>
  );
}
