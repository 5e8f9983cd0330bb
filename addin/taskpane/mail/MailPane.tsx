/**
 * The continuity mailbox in the pane: Inbox and Sent (newest first, "Load more" by cursor), a
 * reading view, and reply / reply all / forward / new message composed here and sent through
 * Lifeboat. Times are in the event's time zone.
 */
import { Button, Caption1, MessageBar, MessageBarBody, MessageBarTitle, SearchBox, Tab, TabList, makeStyles, tokens } from '@fluentui/react-components';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Api, MailFolder, MailMessage, MailSummary, Person } from '../../lib/api';
import { ApiError } from '../../lib/api';
import { formatFull, type ComposeMode } from '../../lib/compose';
import { ComposeView } from './ComposeView';
import { MessageList, type ListState } from './MessageList';
import { ReadingView } from './ReadingView';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: '8px' },
  bar: { display: 'flex', justifyContent: 'space-between', alignItems: 'center', columnGap: '8px' },
  zone: { color: tokens.colorNeutralForeground3 },
});

type View = { kind: 'list' } | { kind: 'read'; id: string; justSent?: boolean } | { kind: 'compose'; mode: ComposeMode; original: MailMessage | null };

const emptyList = (): ListState => ({ items: [], nextCursor: null, loading: false, loadingMore: false, error: null });
const messageOf = (err: unknown) => (err instanceof ApiError ? err.message : (err as Error).message);
/** While a sent message has recipients still queued, its statuses are refreshed this often. */
const DELIVERY_POLL_MS = 2000;
const DELIVERY_POLL_FOR_MS = 120_000;

export function MailPane(props: {
  api: Api;
  me: string | null;
  timeZone: string | undefined;
  since: string | null;
  active: boolean;
  onUnauthorized: () => void;
  /** The web inbox: a search box over both folders. */
  searchable?: boolean;
  /** Directory suggestions in compose (see ComposeView). */
  people?: (query: string) => Promise<Person[]>;
  /** Attach files from the device in compose (see ComposeView). */
  attachFiles?: boolean;
  /** Offline: what is shown is the last loaded copy; writing is off. */
  readOnly?: boolean;
}) {
  const styles = useStyles();
  const { api, timeZone } = props;
  const [folder, setFolder] = useState<MailFolder>('inbox');
  const [lists, setLists] = useState<Record<MailFolder, ListState>>({ inbox: emptyList(), sent: emptyList() });
  const requests = useRef<Record<MailFolder, number>>({ inbox: 0, sent: 0 });
  const listsRef = useRef(lists);
  listsRef.current = lists;
  const [view, setView] = useState<View>({ kind: 'list' });
  const [reading, setReading] = useState<{ message: MailMessage | null; loading: boolean; error: string | null }>({
    message: null,
    loading: false,
    error: null,
  });
  const [notice, setNotice] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<ListState & { query: string }>({ ...emptyList(), query: '' });
  const searchTicket = useRef(0);
  const unauthorized = useRef(props.onUnauthorized);
  unauthorized.current = props.onUnauthorized;

  const fail = useCallback((err: unknown) => {
    if (err instanceof ApiError && err.unauthorized) unauthorized.current();
    return messageOf(err);
  }, []);

  const load = useCallback(
    async (f: MailFolder, more = false) => {
      const cursor = more ? listsRef.current[f].nextCursor : null;
      const ticket = ++requests.current[f]; // a later load wins over an earlier one still in flight
      setLists((l) => ({ ...l, [f]: { ...l[f], loading: !more, loadingMore: more, error: null } }));
      try {
        const page = await api.mailbox(f, cursor);
        if (ticket !== requests.current[f]) return;
        setLists((l) => ({
          ...l,
          [f]: {
            items: more ? [...l[f].items, ...page.items.filter((i) => !l[f].items.some((x) => x.id === i.id))] : page.items,
            nextCursor: page.nextCursor,
            loading: false,
            loadingMore: false,
            error: null,
          },
        }));
      } catch (err) {
        const error = fail(err);
        if (ticket !== requests.current[f]) return;
        setLists((l) => ({ ...l, [f]: { ...l[f], loading: false, loadingMore: false, error } }));
      }
    },
    [api, fail],
  );

  useEffect(() => {
    void load(folder);
  }, [folder, load]);

  const runSearch = useCallback(
    async (q: string, more = false) => {
      const ticket = ++searchTicket.current;
      setResults((r) => ({ ...(more ? r : emptyList()), query: q, loading: !more, loadingMore: more, error: null }));
      try {
        const page = await api.search(q, more ? results.nextCursor : null);
        if (ticket !== searchTicket.current) return;
        setResults((r) => ({
          items: more ? [...r.items, ...page.items] : page.items,
          nextCursor: page.nextCursor,
          loading: false,
          loadingMore: false,
          error: null,
          query: q,
        }));
      } catch (err) {
        const error = fail(err);
        if (ticket === searchTicket.current) setResults((r) => ({ ...r, loading: false, loadingMore: false, error }));
      }
    },
    [api, fail, results.nextCursor],
  );
  const searching = Boolean(props.searchable && results.query);

  const open = useCallback(
    async (id: string, quiet = false) => {
      setReading((r) => ({ message: quiet ? r.message : null, loading: true, error: null }));
      try {
        const message = await api.message(id);
        setReading({ message, loading: false, error: null });
        return message;
      } catch (err) {
        const error = fail(err);
        setReading((r) => ({ message: quiet ? r.message : null, loading: false, error }));
        return null;
      }
    },
    [api, fail],
  );

  // A sent message: follow its recipients' delivery statuses until none is queued.
  const readingId = view.kind === 'read' ? view.id : null;
  const queued = reading.message?.id === readingId && reading.message?.deliveries?.some((d) => d.state === 'queued');
  useEffect(() => {
    if (!readingId || !queued) return;
    const started = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - started > DELIVERY_POLL_FOR_MS) clearInterval(timer);
      else void open(readingId, true);
    }, DELIVERY_POLL_MS);
    return () => clearInterval(timer);
  }, [readingId, queued, open]);

  const onOpen = (item: MailSummary) => {
    setNotice(null);
    setView({ kind: 'read', id: item.id });
    void open(item.id);
  };

  const onSent = (sent: MailMessage) => {
    const n = sent.deliveries?.length ?? [...sent.to, ...sent.cc].length;
    setNotice(`Lifeboat is delivering it to ${n} recipient${n === 1 ? '' : 's'}: the status of each is below.`);
    setFolder('sent');
    setReading({ message: sent, loading: false, error: null });
    setView({ kind: 'read', id: sent.id, justSent: true });
    void load('sent');
  };

  const back = () => {
    setNotice(null);
    setView({ kind: 'list' });
    void load(folder);
  };

  return (
    <section className={styles.root} aria-label="Continuity mailbox" data-testid="mail">
      {view.kind === 'list' ? (
        <>
          {props.searchable ? (
            <form
              role="search"
              onSubmit={(e) => {
                e.preventDefault();
                if (query.trim().length >= 2) void runSearch(query.trim());
              }}
            >
              <SearchBox
                value={query}
                onChange={(_, d) => {
                  setQuery(d.value);
                  if (!d.value) setResults({ ...emptyList(), query: '' });
                }}
                placeholder="Search sender, recipients, subject, text"
                aria-label="Search your continuity mailbox"
                data-testid="mail-search"
                style={{ width: '100%', maxWidth: 'none' }}
              />
            </form>
          ) : null}
          {searching ? (
            <>
              <Caption1 className={styles.zone} data-testid="search-summary" aria-live="polite">
                {results.loading
                  ? `Searching for “${results.query}”…`
                  : `${results.items.length}${results.nextCursor ? '+' : ''} found for “${results.query}” in Inbox and Sent.`}{' '}
                <Button
                  size="small"
                  appearance="transparent"
                  onClick={() => {
                    setQuery('');
                    setResults({ ...emptyList(), query: '' });
                  }}
                  data-testid="search-clear"
                >
                  Clear search
                </Button>
              </Caption1>
              <MessageList
                folder="inbox"
                state={results}
                timeZone={timeZone}
                sinceText={null}
                onOpen={onOpen}
                onMore={() => void runSearch(results.query, true)}
                onRetry={() => void runSearch(results.query)}
              />
            </>
          ) : null}
          <div className={styles.bar} style={searching ? { display: 'none' } : undefined}>
            <TabList selectedValue={folder} onTabSelect={(_, d) => setFolder(d.value as MailFolder)} size="small">
              <Tab value="inbox" data-testid="tab-inbox">
                Inbox
              </Tab>
              <Tab value="sent" data-testid="tab-sent">
                Sent
              </Tab>
            </TabList>
            <Button size="small" disabled={props.readOnly} onClick={() => setView({ kind: 'compose', mode: 'new', original: null })} data-testid="mail-new">
              New message
            </Button>
          </div>
          {searching ? null : (
            <>
              <Caption1 className={styles.zone} data-testid="mail-zone">
                {props.since && folder === 'inbox' ? `Since ${formatFull(props.since, timeZone)}. ` : ''}Times in {timeZone ?? 'your time zone'}.{' '}
                <Button size="small" appearance="transparent" onClick={() => void load(folder)} data-testid="mail-refresh">
                  Refresh
                </Button>
              </Caption1>
              <MessageList
                folder={folder}
                state={lists[folder]}
                timeZone={timeZone}
                sinceText={props.since ? 'since the outage began' : null}
                onOpen={onOpen}
                onMore={() => void load(folder, true)}
                onRetry={() => void load(folder)}
              />
            </>
          )}
        </>
      ) : null}
      {view.kind === 'read' ? (
        <>
          {notice ? (
            <MessageBar intent="success" data-testid="sent-notice">
              <MessageBarBody>
                <MessageBarTitle>Sent</MessageBarTitle>
                {notice}
              </MessageBarBody>
            </MessageBar>
          ) : null}
          <ReadingView
            api={api}
            message={reading.message?.id === view.id ? reading.message : null}
            loading={reading.loading}
            error={reading.error}
            timeZone={timeZone}
            onBack={back}
            onRefresh={() => void open(view.id, true)}
            onCompose={(mode) => !props.readOnly && reading.message && setView({ kind: 'compose', mode, original: reading.message })}
          />
        </>
      ) : null}
      {view.kind === 'compose' ? (
        <ComposeView
          api={api}
          mode={view.mode}
          original={view.original}
          me={props.me}
          timeZone={timeZone}
          onSent={onSent}
          onCancel={() => (view.original ? setView({ kind: 'read', id: view.original.id }) : back())}
          people={props.people}
          attachFiles={props.attachFiles}
        />
      ) : null}
    </section>
  );
}
