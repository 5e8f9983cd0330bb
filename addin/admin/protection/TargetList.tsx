/**
 * One list of policy targets (senders or recipients, included or excepted): addresses, domains and
 * directory groups picked with the events form's group look-up. A bad target shows its server message
 * next to it (the 422 path `<side>.<list>.<i>.value`).
 */
import { Button, Field, Input, Select, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useState } from 'react';
import type { FieldError } from '../contract';
import { GroupLookup } from '../events/GroupLookup';

export interface Target {
  type: 'address' | 'domain' | 'group';
  value: string;
}

const useStyles = makeStyles({
  list: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', rowGap: '4px' },
  item: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', columnGap: '8px' },
  value: { overflowWrap: 'anywhere' },
  error: { color: tokens.colorPaletteRedForeground1, flexBasis: '100%' },
  add: { display: 'flex', flexWrap: 'wrap', gap: '8px', alignItems: 'end' },
});

const TYPE_LABELS = { address: 'Address', domain: 'Domain', group: 'Group' } as const;

export function TargetList(props: {
  label: string;
  path: string;
  targets: Target[];
  groupNames: Record<string, string>;
  errors: FieldError[];
  disabled: boolean;
  onChange: (targets: Target[]) => void;
  onGroupNamed: (id: string, name: string) => void;
}) {
  const s = useStyles();
  const [type, setType] = useState<'address' | 'domain'>('address');
  const [value, setValue] = useState('');
  const [lookup, setLookup] = useState(false);
  const listError = props.errors.find((e) => e.path === props.path)?.message;

  const add = () => {
    if (!value.trim()) return;
    props.onChange([...props.targets, { type, value: value.trim() }]);
    setValue('');
  };

  return (
    <fieldset data-field={props.path} style={{ border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: 4, padding: 8, margin: 0 }}>
      <legend>
        <Text weight="semibold">{props.label}</Text>
      </legend>
      {props.targets.length === 0 && <Text size={200}>None{props.label.startsWith('Except') ? '' : ': everyone'}.</Text>}
      <ul className={s.list}>
        {props.targets.map((t, i) => {
          const err = props.errors.find((e) => e.path === `${props.path}.${i}.value` || e.path === `${props.path}.${i}.type`)?.message;
          const shown = t.type === 'group' ? (props.groupNames[t.value] ?? t.value) : t.value;
          return (
            <li key={`${t.type}:${t.value}:${i}`} className={s.item} data-field={`${props.path}.${i}.value`}>
              <Text size={200}>{TYPE_LABELS[t.type]}:</Text>
              <Text className={s.value}>{shown}</Text>
              <Button
                size="small"
                appearance="subtle"
                disabled={props.disabled}
                aria-label={`Remove ${shown}`}
                onClick={() => props.onChange(props.targets.filter((_, j) => j !== i))}
              >
                Remove
              </Button>
              {err && (
                <Text size={200} className={s.error} role="alert">
                  {shown}: {err}
                </Text>
              )}
            </li>
          );
        })}
      </ul>
      <div className={s.add}>
        <Field label="Kind">
          <Select value={type} disabled={props.disabled} onChange={(_, d) => setType(d.value as 'address' | 'domain')}>
            <option value="address">Address</option>
            <option value="domain">Domain</option>
          </Select>
        </Field>
        <Field label={type === 'address' ? 'Email address' : 'Domain'}>
          <Input
            value={value}
            disabled={props.disabled}
            onChange={(_, d) => setValue(d.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                add();
              }
            }}
          />
        </Field>
        <Button disabled={props.disabled || !value.trim()} onClick={add}>
          Add
        </Button>
        <Button disabled={props.disabled} onClick={() => setLookup(true)}>
          Add a group…
        </Button>
      </div>
      {listError && (
        <Text size={200} className={s.error} role="alert">
          {listError}
        </Text>
      )}
      <GroupLookup
        title={`${props.label}: pick a group`}
        open={lookup}
        onClose={() => setLookup(false)}
        onPick={(g) => {
          props.onGroupNamed(g.id, g.displayName);
          props.onChange([...props.targets, { type: 'group', value: g.id }]);
          setLookup(false);
        }}
      />
    </fieldset>
  );
}
