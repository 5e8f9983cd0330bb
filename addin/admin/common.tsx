/** Small pieces every admin page uses: loading with errors, page headings, disabled-with-reason. */
import {
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title2,
  Tooltip,
  makeStyles,
  mergeClasses,
  tokens,
} from '@fluentui/react-components';
import { useCallback, useEffect, useRef, useState, type CSSProperties, type ReactElement, type ReactNode } from 'react';
import { AdminApiError } from './api';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: AdminApiError } | { state: 'ready'; data: T };

/**
 * Loads on mount, whenever `load` or `refreshKey` changes, and on reload(); keeps showing the last data
 * while reloading. `load` must be stable: a client function, or a useCallback on what it reads.
 */
export function useLoad<T>(load: () => Promise<T>, refreshKey?: unknown): [Loaded<T>, () => Promise<void>] {
  const [value, setValue] = useState<Loaded<T>>({ state: 'loading' });
  // Only the newest request may answer: a live-update reload of the old filter that returns after the admin
  // switched it (Show all events) must not put the old list back under the new button.
  const newest = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++newest.current;
    let next: Loaded<T>;
    try {
      next = { state: 'ready', data: await load() };
    } catch (err) {
      next = { state: 'error', error: err instanceof AdminApiError ? err : new AdminApiError(String(err), 0) };
    }
    if (mine === newest.current) setValue(next);
  }, [load]);
  useEffect(() => {
    setValue({ state: 'loading' });
    void reload();
  }, [reload, refreshKey]);
  return [value, reload];
}

/**
 * Calls `tick` every `ms` while `enabled` (a list that changes on the server without the admin doing
 * anything: the queue, a running sync). `onStop` runs when polling stops, e.g. to load what it produced.
 */
export function useEvery(tick: () => unknown, ms: number, enabled = true, onStop?: () => unknown): void {
  useEffect(() => {
    if (!enabled) return;
    const timer = setInterval(() => void tick(), ms);
    return () => {
      clearInterval(timer);
      void onStop?.();
    };
  }, [enabled, ms, tick, onStop]);
}

const useStyles = makeStyles({
  head: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', justifyContent: 'space-between', gap: '8px', marginBottom: '12px' },
  title: { margin: 0 },
  hint: { color: tokens.colorNeutralForeground3, display: 'block' },
  command: {
    display: 'block',
    whiteSpace: 'pre-wrap',
    overflowWrap: 'anywhere',
    fontFamily: tokens.fontFamilyMonospace,
    fontSize: tokens.fontSizeBase200,
    backgroundColor: tokens.colorNeutralBackground3,
    padding: '6px 8px',
    borderRadius: tokens.borderRadiusMedium,
  },
  empty: { padding: '24px 8px', color: tokens.colorNeutralForeground3, display: 'block' },
  scroll: { overflowX: 'auto' },
  nowrap: { '& .fui-TableCell': { whiteSpace: 'nowrap' } },
  table: { minWidth: 'var(--lifeboat-table-min)' },
  // On a phone each row becomes a small card: every cell on its own line under its column's name, so
  // no column is cut off or hidden sideways (the header row stays for screen readers only).
  stacked: {
    '@media (max-width: 640px)': {
      minWidth: 0,
      '& thead': { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', clipPath: 'inset(50%)', whiteSpace: 'nowrap' },
      '& tbody, & tr': { display: 'block', width: '100%' },
      '& tr.fui-TableRow': { padding: '8px 0', borderBottom: `1px solid ${tokens.colorNeutralStroke2}` },
      '& td.fui-TableCell': {
        display: 'grid',
        gridTemplateColumns: 'minmax(90px, 35%) minmax(0, 1fr)',
        columnGap: '8px',
        // A badge or button keeps its own width instead of stretching across the value column.
        justifyItems: 'start',
        alignItems: 'baseline',
        height: 'auto',
        minHeight: 0,
        padding: '2px 4px',
        whiteSpace: 'normal',
        overflowWrap: 'anywhere',
        maxWidth: 'none',
      },
      '& td.fui-TableCell::before': { content: 'attr(data-label)', color: tokens.colorNeutralForeground3, fontWeight: tokens.fontWeightSemibold },
    },
  },
});

export function PageHead({ title, children }: { title: string; children?: ReactNode }) {
  const s = useStyles();
  return (
    <div className={s.head}>
      <Title2 as="h1" id="page-title" className={s.title}>
        {title}
      </Title2>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8 }}>{children}</div>
    </div>
  );
}

export function Hint({ children, id }: { children: ReactNode; id?: string }) {
  return (
    <Text size={200} id={id} className={useStyles().hint}>
      {children}
    </Text>
  );
}

/** A command for an administrator to copy (Exchange Online PowerShell): monospace, shaded, wrapping anywhere. */
export function CommandBlock({ children }: { children: ReactNode }) {
  return <code className={useStyles().command}>{children}</code>;
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Text className={useStyles().empty} data-testid="empty">
      {children}
    </Text>
  );
}

export function Loading({ label }: { label: string }) {
  return <Spinner label={label} style={{ padding: 24 }} />;
}

export function ErrorBar({ error, title = 'Something went wrong' }: { error: Error; title?: string }) {
  return (
    <MessageBar intent="error" role="alert">
      <MessageBarBody>
        <MessageBarTitle>{title}</MessageBarTitle>
        {error.message}
      </MessageBarBody>
    </MessageBar>
  );
}

/** Renders a loaded value, or its loading / error state. */
export function Show<T>({ value, label, children }: { value: Loaded<T>; label: string; children: (data: T) => ReactNode }) {
  if (value.state === 'loading') return <Loading label={label} />;
  if (value.state === 'error') return <ErrorBar error={value.error} title={`Could not load ${label.replace(/^Loading /, '').replace(/…$/, '')}`} />;
  return <>{children(value.data)}</>;
}

/** A control that is disabled for this role shows why on hover and focus. */
export function Guard({ reason, children }: { reason: string | null; children: ReactElement }) {
  if (!reason) return children;
  return (
    <Tooltip content={reason} relationship="description">
      {children}
    </Tooltip>
  );
}

/** One column of a ScrollTable: its header and how a row fills its cell. */
export interface Column<T> {
  header: ReactNode;
  /** The column's name beside each cell on a phone (default: the header, when it is text). */
  label?: string;
  cell: (row: T) => ReactNode;
  className?: string;
  /** The cell's tooltip (e.g. the full text of a shortened one). */
  title?: (row: T) => string | undefined;
}

/**
 * The admin pages' tables: at laptop width a table (scrolling sideways inside a focusable region when
 * narrower than `minWidth`, so the keyboard can scroll it too); at phone width every row is stacked,
 * each cell under its column's name, so nothing is clipped.
 */
export function ScrollTable<T>(props: {
  label: string;
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  minWidth: number;
  testId?: string;
  rowTestId?: string;
  /** Cells keep to one line (long values are shortened by their column). */
  nowrap?: boolean;
}) {
  const c = useStyles();
  const labels = props.columns.map((col) => col.label ?? (typeof col.header === 'string' ? col.header : ''));
  return (
    <div className={c.scroll} tabIndex={0} role="region" aria-label={`${props.label}, scrollable`}>
      <Table
        aria-label={props.label}
        size="small"
        data-testid={props.testId}
        className={mergeClasses(c.table, props.nowrap && c.nowrap, c.stacked)}
        style={{ '--lifeboat-table-min': `${props.minWidth}px` } as CSSProperties}
      >
        <TableHeader>
          <TableRow>
            {props.columns.map((col, i) => (
              <TableHeaderCell key={i}>{col.header}</TableHeaderCell>
            ))}
          </TableRow>
        </TableHeader>
        <TableBody>
          {props.rows.map((row) => (
            <TableRow key={props.rowKey(row)} data-testid={props.rowTestId}>
              {props.columns.map((col, i) => (
                <TableCell key={i} className={col.className} title={col.title?.(row)} data-label={labels[i]}>
                  {col.cell(row)}
                </TableCell>
              ))}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </div>
  );
}
