import {
  Button,
  Caption1,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
  makeStyles,
  mergeClasses,
  tokens,
} from '@fluentui/react-components';
import type { MailFolder, MailSummary } from '../../lib/api';
import { formatFull, formatShort, parseMailbox } from '../../lib/compose';

const useStyles = makeStyles({
  list: { listStyleType: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column' },
  row: {
    display: 'flex',
    flexDirection: 'column',
    rowGap: '2px',
    width: '100%',
    textAlign: 'left',
    padding: '8px',
    border: 'none',
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    backgroundColor: 'transparent',
    cursor: 'pointer',
    fontFamily: 'inherit',
    ':hover': { backgroundColor: tokens.colorNeutralBackground1Hover },
    ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
  line: { display: 'flex', justifyContent: 'space-between', alignItems: 'baseline', columnGap: '8px', minWidth: 0 },
  who: { fontWeight: tokens.fontWeightSemibold, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', minWidth: 0 },
  when: { color: tokens.colorNeutralForeground3, flexShrink: 0 },
  subject: { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
  preview: { color: tokens.colorNeutralForeground3, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
  meta: { display: 'flex', columnGap: '8px', color: tokens.colorNeutralForeground3, alignItems: 'center' },
  icon: { verticalAlign: 'middle' },
  empty: { padding: '16px 8px', color: tokens.colorNeutralForeground3 },
  more: { alignSelf: 'center', marginTop: '8px' },
});

/** A display name when there is one, else the address. */
export function shortName(value: string): string {
  const m = parseMailbox(value);
  return m ? (m.name ?? m.address) : value;
}

/** A small paperclip (no icon font or emoji needed). */
export function Paperclip() {
  return (
    <svg width="12" height="12" viewBox="0 0 16 16" aria-hidden="true" style={{ verticalAlign: '-1px' }}>
      <path
        d="M10.5 3.5 5 9a1.8 1.8 0 0 0 2.5 2.5l6-6a3 3 0 0 0-4.2-4.2l-6.2 6.2a4.2 4.2 0 0 0 6 6l5-5"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.4"
        strokeLinecap="round"
      />
    </svg>
  );
}

export interface ListState {
  items: MailSummary[];
  nextCursor: string | null;
  loading: boolean;
  loadingMore: boolean;
  error: string | null;
}

export function MessageList(props: {
  folder: MailFolder;
  state: ListState;
  timeZone: string | undefined;
  sinceText: string | null;
  onOpen: (item: MailSummary) => void;
  onMore: () => void;
  onRetry: () => void;
}) {
  const styles = useStyles();
  const { folder, state, timeZone } = props;
  if (state.loading && state.items.length === 0)
    return <Spinner size="small" label={folder === 'inbox' ? 'Getting your inbox…' : 'Getting your sent mail…'} data-testid="mail-loading" />;
  const error = state.error ? (
    <MessageBar intent="error" layout="multiline" data-testid="mail-error">
      <MessageBarBody>
        <MessageBarTitle>{folder === 'inbox' ? "Can't get your inbox" : "Can't get your sent mail"}</MessageBarTitle>
        <span style={{ display: 'block' }}>{state.error}</span>
      </MessageBarBody>
      <MessageBarActions>
        <Button size="small" onClick={props.onRetry}>
          Retry
        </Button>
      </MessageBarActions>
    </MessageBar>
  ) : null;
  if (state.items.length === 0) {
    return (
      <>
        {error}
        {!state.error ? (
          <Text className={styles.empty} data-testid="mail-empty" block>
            {folder === 'inbox'
              ? `No messages${props.sinceText ? ` ${props.sinceText}` : ' yet'}. Mail that reaches Lifeboat for you shows here.`
              : 'Nothing sent through Lifeboat yet.'}
          </Text>
        ) : null}
      </>
    );
  }
  return (
    <>
      {error}
      <ul className={styles.list} data-testid="mail-list" data-folder={folder} aria-label={folder === 'inbox' ? 'Inbox' : 'Sent'}>
        {state.items.map((m) => {
          const who = folder === 'inbox' ? shortName(m.from) : `To: ${[...m.to, ...m.cc].map(shortName).join(', ') || '(no recipients)'}`;
          return (
            <li key={m.id}>
              <button
                type="button"
                className={styles.row}
                onClick={() => props.onOpen(m)}
                data-testid="mail-row"
                data-id={m.id}
                title={formatFull(m.date, timeZone)}
              >
                <span className={styles.line}>
                  <Text className={styles.who}>{who}</Text>
                  <Caption1 className={styles.when} data-testid="mail-date">
                    {formatShort(m.date, timeZone)}
                  </Caption1>
                </span>
                <Text className={mergeClasses(styles.subject)}>{m.subject || '(no subject)'}</Text>
                {m.preview ? <Caption1 className={styles.preview}>{m.preview}</Caption1> : null}
                {m.viaGroup || m.hasAttachments || m.security?.action === 'tag' ? (
                  <span className={styles.meta}>
                    {m.security?.action === 'tag' ? (
                      <Caption1 data-testid="mail-warning-marker" style={{ color: tokens.colorPaletteDarkOrangeForeground1 }}>
                        ⚠ {m.security.verdict === 'unscanned' ? 'Not scanned' : `Suspected ${m.security.verdict ?? 'threat'}`}
                      </Caption1>
                    ) : null}
                    {m.viaGroup ? <Caption1 data-testid="mail-via">via {shortName(m.viaGroup)}</Caption1> : null}
                    {m.hasAttachments ? (
                      <Caption1 data-testid="mail-attachment-marker">
                        <Paperclip /> Attachment
                      </Caption1>
                    ) : null}
                  </span>
                ) : null}
              </button>
            </li>
          );
        })}
      </ul>
      {state.nextCursor ? (
        <Button className={styles.more} onClick={props.onMore} disabled={state.loadingMore} data-testid="mail-more">
          {state.loadingMore ? 'Loading…' : 'Load more'}
        </Button>
      ) : null}
    </>
  );
}
