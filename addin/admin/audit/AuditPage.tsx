/** The audit trail: filters, newest first with "Load more" (cursor), and the same filters as CSV. */
import { Button, Field, Input, Link, Select, Text, makeStyles } from '@fluentui/react-components';
import { useEffect, useState, type FormEvent } from 'react';
import { AUDIT_CATEGORIES } from '../../../server/audit/categories';
import { api, query, type FieldError } from '../api';
import { Empty, ErrorBar, Loading, PageHead, ScrollTable } from '../common';
import { showInstant } from '../time';

interface AuditEntry {
  id: string;
  at: string;
  category: string;
  action: string;
  actor: { type: string; id: string | null; email: string | null };
  target: { type: string; id: string | null; label?: string | null } | null;
  ip: string | null;
}

interface Filters {
  category: string;
  actor: string;
  from: string;
  to: string;
}

const CATEGORIES = AUDIT_CATEGORIES;

const useStyles = makeStyles({
  filters: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(240px, 1fr))', gap: '12px', alignItems: 'end', marginBottom: '12px' },
  more: { display: 'flex', gap: '12px', alignItems: 'center', marginTop: '12px', flexWrap: 'wrap' },
});

/** The query for the API: datetime-local values (the browser's zone) become ISO instants. */
function params(f: Filters) {
  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  return { category: f.category || undefined, actor: f.actor.trim() || undefined, from: iso(f.from), to: iso(f.to) };
}

export function AuditPage() {
  const c = useStyles();
  const [draft, setDraft] = useState<Filters>({ category: '', actor: '', from: '', to: '' });
  const [applied, setApplied] = useState<Filters>(draft);
  const [items, setItems] = useState<AuditEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldError[]>([]);
  const [busy, setBusy] = useState(false);

  async function load(filters: Filters, after: string | null) {
    setBusy(true);
    setError(null);
    try {
      const page = await api<{ items: AuditEntry[]; nextCursor: string | null }>(
        'GET',
        `/api/audit${query({ ...params(filters), cursor: after, limit: '50' })}`,
      );
      setItems((old) => (after && old ? [...old, ...page.items] : page.items));
      setCursor(page.nextCursor);
      setFieldErrors([]);
    } catch (err) {
      setError(err as Error);
      setFieldErrors((err as { fieldErrors?: FieldError[] }).fieldErrors ?? []);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    void load(applied, null);
  }, [applied]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setItems(null);
    setApplied({ ...draft });
  };
  const fieldError = (path: string) => fieldErrors.find((e) => e.path === path)?.message;

  return (
    <section aria-labelledby="page-title">
      <PageHead title="Audit trail">
        <Link href={`/api/audit/export.csv${query(params(applied))}`} download data-testid="audit-csv">
          Export these entries as CSV
        </Link>
      </PageHead>
      <form className={c.filters} onSubmit={apply} aria-label="Audit filters">
        <Field label="Category">
          <Select value={draft.category} onChange={(_, d) => setDraft({ ...draft, category: d.value })}>
            <option value="">All categories</option>
            {CATEGORIES.map((x) => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Actor (email)" validationMessage={fieldError('actor')}>
          <Input value={draft.actor} onChange={(_, d) => setDraft({ ...draft, actor: d.value })} />
        </Field>
        <Field label="From (your local time)" validationMessage={fieldError('from')}>
          <Input type="datetime-local" value={draft.from} onChange={(_, d) => setDraft({ ...draft, from: d.value })} />
        </Field>
        <Field label="To (your local time)" validationMessage={fieldError('to')}>
          <Input type="datetime-local" value={draft.to} onChange={(_, d) => setDraft({ ...draft, to: d.value })} />
        </Field>
        <Button type="submit" appearance="primary">
          Apply filters
        </Button>
      </form>
      {error && <ErrorBar error={error} title="Could not load the audit trail" />}
      {items === null && !error && <Loading label="Loading audit entries…" />}
      {items?.length === 0 && <Empty>No audit entries match these filters.</Empty>}
      {items && items.length > 0 && (
        <ScrollTable
          label="Audit entries"
          testId="audit-table"
          minWidth={760}
          rows={items}
          rowKey={(e) => e.id}
          columns={[
            { header: 'When', cell: (e) => showInstant(e.at) },
            { header: 'Category', cell: (e) => e.category },
            { header: 'Action', cell: (e) => e.action },
            { header: 'Actor', cell: (e) => e.actor.email ?? e.actor.type },
            { header: 'Target', cell: (e) => (e.target ? (e.target.label ?? e.target.id ?? e.target.type) : '—') },
          ]}
        />
      )}
      <div className={c.more}>
        {cursor && (
          <Button onClick={() => load(applied, cursor)} disabled={busy}>
            {busy ? 'Loading…' : 'Load more'}
          </Button>
        )}
        {items && (
          <Text size={200}>
            {items.length} entries shown{cursor ? '; more are available' : ''}. Times are in your browser’s time zone.
          </Text>
        )}
      </div>
    </section>
  );
}
