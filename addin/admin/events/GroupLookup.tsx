/** The "Look Up" dialog: search the directory's groups and pick one. */
import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  Spinner,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { directory } from '../client';
import { ErrorBar } from '../common';
import type { Group } from '../contract';

const useStyles = makeStyles({
  list: { listStyle: 'none', padding: 0, margin: '8px 0 0', maxHeight: '320px', overflowY: 'auto' },
  item: {
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'space-between',
    gap: '8px',
    padding: '6px 0',
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  meta: { color: tokens.colorNeutralForeground3, display: 'block', overflowWrap: 'anywhere' },
});

const KIND_LABELS: Record<string, string> = {
  m365: 'Microsoft 365 group',
  dynamic: 'Dynamic group',
  mailEnabledSecurity: 'Mail-enabled security group',
  distributionList: 'Distribution list',
  security: 'Security group',
};

export function GroupLookup({ title, open, onClose, onPick }: { title: string; open: boolean; onClose: () => void; onPick: (g: Group) => void }) {
  const s = useStyles();
  const [search, setSearch] = useState('');
  const [groups, setGroups] = useState<Group[] | null>(null);
  const [error, setError] = useState<Error | null>(null);

  useEffect(() => {
    if (!open) return;
    let live = true;
    setGroups(null);
    // A short pause so each keystroke does not become a request.
    const timer = setTimeout(() => {
      directory
        .groups(search)
        .then((g) => live && (setGroups(g), setError(null)))
        .catch((e: Error) => live && setError(e));
    }, 200);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [open, search]);

  return (
    <Dialog open={open} onOpenChange={(_, d) => !d.open && onClose()}>
      <DialogSurface aria-describedby={undefined}>
        <DialogBody>
          <DialogTitle>{title}</DialogTitle>
          <DialogContent>
            <Field label="Search groups by name or address">
              <Input value={search} onChange={(_, d) => setSearch(d.value)} autoFocus />
            </Field>
            {error && <ErrorBar error={error} title="Could not search the directory" />}
            {!error && groups === null && <Spinner size="small" label="Searching…" />}
            {groups?.length === 0 && <Text>No group matches “{search}”.</Text>}
            {groups && groups.length > 0 && (
              <ul className={s.list} aria-label="Groups found">
                {groups.map((g) => (
                  <li key={g.id} className={s.item}>
                    <div>
                      <Text weight="semibold">{g.displayName}</Text>
                      <Text size={200} className={s.meta}>
                        {[g.mail, KIND_LABELS[g.kind] ?? g.kind].filter(Boolean).join(' · ')}
                      </Text>
                    </div>
                    <Button size="small" aria-label={`Select ${g.displayName}`} onClick={() => onPick(g)}>
                      Select
                    </Button>
                  </li>
                ))}
              </ul>
            )}
          </DialogContent>
          <DialogActions>
            <Button onClick={onClose}>Cancel</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
