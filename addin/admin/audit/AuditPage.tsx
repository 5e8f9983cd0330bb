/** The audit trail: filters, newest first with "Load more" (cursor), and the same filters as CSV. */
import { Button, Field, Input, Link, Select, makeStyles } from '@fluentui/react-components';
import { useCallback, useState, type FormEvent } from 'react';
import { AUDIT_CATEGORIES as CATEGORIES } from '../../../server/shared/constants';
import { audit } from '../client';
import { LoadMore, usePages } from '../paging';
import { Empty, ErrorBar, Loading, PageHead, ScrollTable } from '../common';
import { showInstant } from '../time';

interface Filters {
  category: string;
  actor: string;
  from: string;
  to: string;
}

const useStyles = makeStyles({
  filters: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(240px, 1fr))', gap: '12px', alignItems: 'end', marginBottom: '12px' },
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
  const fetchPage = useCallback((cursor: string | null) => audit.entries(params(applied), cursor, 50), [applied]);
  const pages = usePages(fetchPage);
  const { items, error, reset } = pages;

  const apply = (e: FormEvent) => {
    e.preventDefault();
    reset();
    setApplied({ ...draft });
  };
  const fieldError = (path: string) => error?.fieldErrors.find((e) => e.path === path)?.message;

  return (
    <section aria-labelledby="page-title">
      <PageHead title="Audit trail">
        <Link href={audit.csvUrl(params(applied))} download data-testid="audit-csv">
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
      <LoadMore pages={pages} note="Times are in your browser’s time zone." />
    </section>
  );
}
