/**
 * The Mail page's list of messages not (yet) delivered: queued, deferred, held and failed, with the
 * recipient, sender, subject, attempts, last SMTP reply and next attempt, filters, "Retry now" for a
 * queued or deferred message and "Release" for one held message (both audited by the server).
 */
import { Button, Card, Field, Input, Select, Subtitle2, Text, makeStyles } from '@fluentui/react-components';
import { useCallback, useState } from 'react';
import { denied } from '../api';
import { mail } from '../client';
import type { MailQueueItem, MailQueueState, Me } from '../contract';
import { Empty, ErrorBar, Guard, Hint, ScrollTable, Show, useEvery, useLoad, type Column } from '../common';
import { showInstant } from '../time';

const useStyles = makeStyles({
  card: { display: 'flex', flexDirection: 'column', rowGap: '12px' },
  filters: { display: 'flex', flexWrap: 'wrap', gap: '8px', alignItems: 'flex-end' },
  reply: { maxWidth: '260px', overflowWrap: 'anywhere' },
  // Addresses have no spaces: let them break anywhere rather than run into the next column.
  wrap: { overflowWrap: 'anywhere' },
});

const QUEUE_REFRESH_MS = 10_000;

const STATE_LABELS: Record<MailQueueState, string> = { queued: 'Queued', deferred: 'Deferred', held: 'Held', failed: 'Failed' };

export function QueueList({ me }: { me: Me }) {
  const c = useStyles();
  const cannot = denied(me, 'basicAdministrator');
  const [draft, setDraft] = useState({ state: '' as MailQueueState | '', recipient: '', sender: '' });
  const [filter, setFilter] = useState(draft);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [items, reload] = useLoad(useCallback(() => mail.queue(filter), [filter]));
  // Mail arrives, is judged and is held without the admin doing anything: keep the list current.
  useEvery(reload, QUEUE_REFRESH_MS);

  const act = async (row: MailQueueItem, kind: 'retry' | 'release') => {
    setError(null);
    setNotice(null);
    try {
      if (kind === 'retry') await mail.retryNow(row.id);
      else await mail.release(row.id);
      setNotice(kind === 'retry' ? `Retrying the message to ${row.recipient} now.` : `Released the held message to ${row.recipient}.`);
      await reload();
    } catch (err) {
      setError(err as Error);
    }
  };

  const columns: Column<MailQueueItem>[] = [
    { header: 'State', cell: (r) => STATE_LABELS[r.state] },
    { header: 'Recipient', cell: (r) => r.recipient, className: c.wrap },
    { header: 'Sender', cell: (r) => r.sender || '(none)', className: c.wrap },
    { header: 'Subject', cell: (r) => r.subject || '(no subject)', className: c.wrap },
    { header: 'Attempts', cell: (r) => String(r.attempts) },
    { header: 'Last SMTP reply', cell: (r) => r.lastReply ?? '—', className: c.reply },
    { header: 'Next attempt', cell: (r) => (r.state === 'held' ? 'When released' : showInstant(r.nextAttemptAt)) },
    {
      header: 'Action',
      cell: (r) =>
        r.state === 'held' || r.state === 'queued' || r.state === 'deferred' ? (
          <Guard reason={cannot}>
            <Button
              size="small"
              disabledFocusable={Boolean(cannot)}
              onClick={() => void act(r, r.state === 'held' ? 'release' : 'retry')}
              aria-label={`${r.state === 'held' ? 'Release' : 'Retry now'} ${r.recipient}`}
            >
              {r.state === 'held' ? 'Release' : 'Retry now'}
            </Button>
          </Guard>
        ) : null,
    },
  ];

  return (
    <Card className={c.card}>
      <Subtitle2 as="h2">Messages not delivered yet</Subtitle2>
      <Hint>The list refreshes every 10 seconds.</Hint>
      <form
        className={c.filters}
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(draft);
        }}
      >
        <Field label="State">
          <Select value={draft.state} onChange={(_, d) => setDraft({ ...draft, state: d.value as MailQueueState | '' })}>
            <option value="">All</option>
            {(Object.keys(STATE_LABELS) as MailQueueState[]).map((k) => (
              <option key={k} value={k}>
                {STATE_LABELS[k]}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Recipient contains">
          <Input value={draft.recipient} onChange={(_, d) => setDraft({ ...draft, recipient: d.value })} />
        </Field>
        <Field label="Sender contains">
          <Input value={draft.sender} onChange={(_, d) => setDraft({ ...draft, sender: d.value })} />
        </Field>
        <Button type="submit">Apply filters</Button>
      </form>
      {notice && <Text data-testid="queue-notice">{notice}</Text>}
      {error && <ErrorBar error={error} title="That did not work" />}
      <Show value={items} label="Loading the mail queue…">
        {(data) =>
          data.items.length === 0 ? (
            <Empty>No queued, deferred, held or failed mail matches.</Empty>
          ) : (
            <ScrollTable
              label="Messages not delivered yet"
              rows={data.items}
              columns={columns}
              rowKey={(r) => `${r.state}:${r.id}`}
              minWidth={900}
              testId="mail-queue"
              rowTestId="mail-queue-row"
            />
          )
        }
      </Show>
    </Card>
  );
}
