/** The quarantine: held copies filtered by verdict and recipient (or only those users asked to release), newest first, with a preview to release or delete. */
import { Badge, Button, Card, Checkbox, Field, Input, Select, Subtitle1, Text } from '@fluentui/react-components';
import { useCallback, useState, type FormEvent } from 'react';
import { quarantine, type QuarantineFilter } from '../client';
import { Empty, ErrorBar, Hint, Loading, ScrollTable } from '../common';
import type { Me, QuarantineEntry, VerdictKind } from '../contract';
import { usePages } from '../paging';
import { showInstant } from '../time';
import { VERDICT_LABELS } from './labels';
import { QuarantinePreview } from './QuarantinePreview';

const HELD_VERDICTS: VerdictKind[] = ['spam', 'phishing', 'malware', 'spoof', 'impersonation', 'unscanned'];

export function QuarantineCard({ me }: { me: Me }) {
  const [draft, setDraft] = useState<QuarantineFilter>({ verdict: '', recipient: '' });
  const [applied, setApplied] = useState<QuarantineFilter>(draft);
  const [requestedOnly, setRequestedOnly] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const [refreshKey, setRefreshKey] = useState(0);
  const fetchPage = useCallback(
    (cursor: string | null) => quarantine.list({ verdict: applied.verdict, recipient: applied.recipient?.trim() }, cursor),
    [applied],
  );
  const { items, hasMore, error, busy, loadMore, reset } = usePages(fetchPage, refreshKey);
  const fieldError = (path: string) => error?.fieldErrors.find((e) => e.path === path)?.message;
  const shown = (items ?? []).filter((e) => !requestedOnly || e.releaseRequests.length > 0);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    reset();
    setApplied({ ...draft });
  };

  return (
    <Card data-testid="quarantine-card">
      <Subtitle1 as="h2">Quarantine</Subtitle1>
      <Hint>Copies held by a policy. Users can ask for a release from the pane or the web inbox; their requests are shown here to approve.</Hint>
      <form
        onSubmit={apply}
        aria-label="Quarantine filters"
        style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(200px, 1fr))', gap: 12, alignItems: 'end' }}
      >
        <Field label="Verdict" validationMessage={fieldError('verdict')}>
          <Select value={draft.verdict} onChange={(_, d) => setDraft({ ...draft, verdict: d.value as VerdictKind })}>
            <option value="">All verdicts</option>
            {HELD_VERDICTS.map((v) => (
              <option key={v} value={v}>
                {VERDICT_LABELS[v]}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Recipient" validationMessage={fieldError('recipient')}>
          <Input type="email" value={draft.recipient} onChange={(_, d) => setDraft({ ...draft, recipient: d.value })} />
        </Field>
        <Button type="submit">Apply filters</Button>
      </form>
      <Checkbox
        label="Only messages users asked to release"
        checked={requestedOnly}
        onChange={(_, d) => setRequestedOnly(Boolean(d.checked))}
        data-testid="requested-only"
      />
      {error && !error.fieldErrors.length && <ErrorBar error={error} title="Could not load the quarantine" />}
      {items === null && !error && <Loading label="Loading the quarantine…" />}
      {items && shown.length === 0 && (
        <Empty>{requestedOnly ? 'No user has asked to release a message shown here.' : 'Nothing is quarantined with these filters.'}</Empty>
      )}
      {shown.length > 0 && (
        <ScrollTable<QuarantineEntry>
          label="Quarantined messages"
          testId="quarantine-table"
          rowTestId="quarantine-row"
          minWidth={760}
          rows={shown}
          rowKey={(e) => e.id}
          columns={[
            { header: 'Held', cell: (e) => showInstant(e.at) },
            { header: 'Verdict', cell: (e) => VERDICT_LABELS[e.verdict] },
            { header: 'From', cell: (e) => <span style={{ overflowWrap: 'anywhere' }}>{e.from || e.mailFrom}</span> },
            { header: 'Subject', cell: (e) => <span style={{ overflowWrap: 'anywhere' }}>{e.subject || '(no subject)'}</span> },
            { header: 'Recipient', cell: (e) => <span style={{ overflowWrap: 'anywhere' }}>{e.recipient}</span> },
            {
              header: 'Requests',
              cell: (e) => (e.releaseRequests.length ? <Badge color="important">{e.releaseRequests.length} asked</Badge> : '—'),
            },
            {
              header: '',
              cell: (e) => (
                <Button size="small" onClick={() => setOpen(e.id)} aria-label={`Open ${e.subject || 'message'} to ${e.recipient}`}>
                  Open
                </Button>
              ),
            },
          ]}
        />
      )}
      {hasMore && (
        <Button onClick={() => void loadMore()} disabled={busy}>
          {busy ? 'Loading…' : 'Load more'}
        </Button>
      )}
      {open && (
        <section aria-label="Quarantined message" style={{ borderTop: '1px solid #e0e0e0', paddingTop: 8 }}>
          <QuarantinePreview
            key={open}
            me={me}
            entryId={open}
            onDone={() => {
              setOpen(null);
              setRefreshKey((k) => k + 1);
            }}
          />
        </section>
      )}
      {items && <Text size={200}>{shown.length} shown. Times are in your browser’s time zone.</Text>}
    </Card>
  );
}
