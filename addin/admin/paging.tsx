/**
 * Cursor paging for the admin page's logs (audit trail, detection log, send log): the first page on
 * mount and whenever the page fetcher (its filters) or the refresh key changes, "Load more" appends
 * the next page. An answer that arrives after a newer request started is dropped, so a slow page of
 * old filters never replaces the new ones. <LoadMore> is the one footer every paged log shows.
 */
import { Button, Text, tokens } from '@fluentui/react-components';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { AdminApiError } from './api';
import type { Page } from './contract';

export interface Pages<T> {
  /** null until the first page arrived (or after reset()). */
  items: T[] | null;
  /** There are more entries after these. */
  hasMore: boolean;
  error: AdminApiError | null;
  busy: boolean;
  loadMore: () => Promise<void>;
  /** The first page again (new entries may have been added). */
  refresh: () => Promise<void>;
  /** Forget what is shown (the page then shows its loading state until the next page arrives). */
  reset: () => void;
}

/** `fetchPage` must be memoised on what it reads (its filters): a new function means a new first page. */
export function usePages<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>, refreshKey?: unknown): Pages<T> {
  const [items, setItems] = useState<T[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<AdminApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const latest = useRef(0);

  const load = useCallback(
    async (after: string | null) => {
      const request = ++latest.current;
      setBusy(true);
      setError(null);
      try {
        const page = await fetchPage(after);
        if (request !== latest.current) return;
        setItems((old) => (after && old ? [...old, ...page.items] : page.items));
        setCursor(page.nextCursor);
      } catch (err) {
        if (request !== latest.current) return;
        setError(err instanceof AdminApiError ? err : new AdminApiError((err as Error).message, 0));
      } finally {
        if (request === latest.current) setBusy(false);
      }
    },
    [fetchPage],
  );

  useEffect(() => {
    void load(null);
  }, [load, refreshKey]);

  return {
    items,
    hasMore: cursor !== null,
    error,
    busy,
    loadMore: () => (cursor ? load(cursor) : Promise.resolve()),
    refresh: () => load(null),
    reset: () => setItems(null),
  };
}

/**
 * The footer under a paged log: "Load more" while there is more, and how many entries are shown
 * (with `note`, e.g. the time zone of the times above).
 */
export function LoadMore<T>({ pages, note, testId }: { pages: Pages<T>; note?: ReactNode; testId?: string }) {
  const { items, hasMore, busy, loadMore } = pages;
  if (!items) return null;
  return (
    <div style={{ display: 'flex', gap: 12, alignItems: 'center', marginTop: 12, flexWrap: 'wrap' }} data-testid="load-more">
      {hasMore && (
        <Button onClick={() => void loadMore()} disabled={busy} data-testid={testId}>
          {busy ? 'Loading…' : 'Load more'}
        </Button>
      )}
      <Text size={200} style={{ color: tokens.colorNeutralForeground3 }} aria-live="polite">
        {items.length} {items.length === 1 ? 'entry' : 'entries'} shown{hasMore ? '; more are available' : ''}.{note ? <> {note}</> : null}
      </Text>
    </div>
  );
}
