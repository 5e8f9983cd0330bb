/**
 * A recipients field (To / Cc / Bcc) that suggests people and groups from the directory for the
 * address being typed (the text after the last comma). A combobox in ARIA terms: arrow keys move
 * through the suggestions, Enter picks one, Escape closes the list.
 */
import { Input, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { useEffect, useId, useRef, useState } from 'react';
import type { Person } from '../../lib/api';

const useStyles = makeStyles({
  wrap: { position: 'relative', display: 'flex', flexDirection: 'column' },
  input: { width: '100%' },
  list: {
    position: 'absolute',
    zIndex: 10,
    left: 0,
    right: 0,
    top: '100%',
    margin: 0,
    padding: '4px 0',
    listStyleType: 'none',
    backgroundColor: tokens.colorNeutralBackground1,
    border: `1px solid ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusMedium,
    boxShadow: tokens.shadow16,
    maxHeight: '240px',
    overflowY: 'auto',
  },
  option: { padding: '6px 10px', cursor: 'pointer', display: 'flex', flexDirection: 'column', overflowWrap: 'anywhere' },
  active: { backgroundColor: tokens.colorNeutralBackground1Selected },
  address: { color: tokens.colorNeutralForeground3, fontSize: tokens.fontSizeBase200 },
});

/** The part after the last separator: what the suggestions are for. */
export function currentToken(value: string): string {
  const i = Math.max(value.lastIndexOf(','), value.lastIndexOf(';'));
  return value.slice(i + 1).trim();
}

export function withPicked(value: string, person: Person): string {
  const i = Math.max(value.lastIndexOf(','), value.lastIndexOf(';'));
  const before = i >= 0 ? `${value.slice(0, i + 1).trimEnd()} ` : '';
  return `${before}${person.address}, `;
}

export function RecipientInput(props: {
  value: string;
  onChange: (value: string) => void;
  disabled: boolean;
  people?: (query: string) => Promise<Person[]>;
  testId: string;
  id?: string;
}) {
  const styles = useStyles();
  const listId = useId();
  const [options, setOptions] = useState<Person[]>([]);
  const [active, setActive] = useState(-1);
  const [open, setOpen] = useState(false);
  const ticket = useRef(0);
  const { people, value } = props;

  useEffect(() => {
    const token = currentToken(value);
    if (!people || token.length < 2 || !open) {
      setOptions([]);
      return;
    }
    const mine = ++ticket.current;
    const timer = setTimeout(() => {
      people(token)
        .then((found) => {
          if (mine === ticket.current) {
            setOptions(found);
            setActive(found.length ? 0 : -1);
          }
        })
        .catch(() => setOptions([]));
    }, 150);
    return () => clearTimeout(timer);
  }, [people, value, open]);

  const pick = (p: Person) => {
    props.onChange(withPicked(value, p));
    setOptions([]);
    setOpen(false);
  };
  const shown = open && options.length > 0;

  return (
    <div className={styles.wrap}>
      <Input
        className={styles.input}
        id={props.id}
        value={value}
        onChange={(_, d) => {
          props.onChange(d.value);
          setOpen(true);
        }}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (!shown) return;
          if (e.key === 'ArrowDown') setActive((a) => (a + 1) % options.length);
          else if (e.key === 'ArrowUp') setActive((a) => (a - 1 + options.length) % options.length);
          else if (e.key === 'Enter' && active >= 0) pick(options[active]!);
          else if (e.key === 'Escape') setOpen(false);
          else return;
          e.preventDefault();
        }}
        disabled={props.disabled}
        data-testid={props.testId}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={shown}
        aria-controls={shown ? listId : undefined}
        aria-activedescendant={shown && active >= 0 ? `${listId}-${active}` : undefined}
        autoComplete="off"
      />
      {shown ? (
        <ul className={styles.list} id={listId} role="listbox" data-testid={`${props.testId}-suggestions`}>
          {options.map((p, i) => (
            <li
              key={p.address}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={mergeClasses(styles.option, i === active && styles.active)}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(p);
              }}
              data-testid="suggestion"
              data-address={p.address}
            >
              <span>
                {p.name}
                {p.kind === 'group' ? ' (group)' : ''}
              </span>
              <span className={styles.address}>{p.address}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
