/** The notification send log: every attempt, newest first, by channel, with "Load more". */
import { Badge, Button, Card, Field, Select, Subtitle2, makeStyles } from '@fluentui/react-components';
import { useCallback, useState } from 'react';
import { notify } from '../client';
import { Empty, ErrorBar, Hint, Loading, ScrollTable } from '../common';
import { LoadMore, usePages } from '../paging';
import { showInstant } from '../time';

const useStyles = makeStyles({
  card: { display: 'flex', flexDirection: 'column', rowGap: '12px' },
  actions: { display: 'flex', gap: '8px', flexWrap: 'wrap', alignItems: 'end' },
  // On a phone the log scrolls sideways inside its region instead of wrapping into tall rows.
  reply: { maxWidth: '300px', overflow: 'hidden', textOverflow: 'ellipsis' },
});

/** A provider reply can be a whole JSON document: the start of it, the rest on hover. */
export const short = (text: string | null, max = 90) => (!text ? '' : text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function SendLog({ version }: { version: number }) {
  const s = useStyles();
  const [channel, setChannel] = useState('');
  const fetchPage = useCallback((cursor: string | null) => notify.log({ channel }, cursor, 25), [channel]);
  const pages = usePages(fetchPage, version);
  const { items: rows, error, busy, refresh } = pages;

  return (
    <Card className={s.card} data-testid="send-log">
      <div className={s.actions} style={{ justifyContent: 'space-between' }}>
        <Subtitle2 as="h2">Send log</Subtitle2>
        <div className={s.actions}>
          <Field label="Channel">
            <Select value={channel} onChange={(_, d) => setChannel(d.value)}>
              <option value="">All</option>
              <option value="email">Email</option>
              <option value="sms">SMS</option>
            </Select>
          </Field>
          <Button onClick={() => void refresh()} disabled={busy}>
            Refresh
          </Button>
        </div>
      </div>
      <Hint>Every attempt, newest first. Reset codes are never shown.</Hint>
      {error && <ErrorBar error={error} title="Could not load the send log" />}
      {rows === null && !error ? (
        <Loading label="Loading the send log…" />
      ) : rows && rows.length === 0 ? (
        <Empty>Nothing sent yet.</Empty>
      ) : rows ? (
        <ScrollTable
          label="Send log"
          rowTestId="log-row"
          minWidth={760}
          nowrap
          rows={rows}
          rowKey={(r) => r.id}
          columns={[
            { header: 'Time', cell: (r) => showInstant(r.at) },
            { header: 'Channel', cell: (r) => (r.channel === 'sms' ? `SMS (${r.provider})` : `Email (${r.provider})`) },
            { header: 'Recipient', cell: (r) => r.recipient },
            { header: 'Purpose', cell: (r) => r.purpose },
            {
              header: 'Status',
              cell: (r) => (
                <Badge appearance="tint" color={r.status === 'sent' ? 'success' : r.status === 'failed' ? 'danger' : 'warning'}>
                  {r.status}
                </Badge>
              ),
            },
            { header: 'Attempt', cell: (r) => r.attempt },
            { header: 'Provider reply', cell: (r) => short(r.providerReply) || '—', className: s.reply, title: (r) => r.providerReply ?? undefined },
          ]}
        />
      ) : null}
      <LoadMore pages={pages} testId="log-more" />
    </Card>
  );
}
