/**
 * Which users may use the end-user apps (the Outlook pane's mail, the web continuity inbox and sending
 * through Lifeboat): everyone in the directory, or only the members of chosen groups (picked with the
 * directory's group look-up). The tenant setting is `/api/end-user-access`; a user outside the groups
 * gets a refusal that tells them to ask IT. Basic administrators and above change it.
 */
import { Button, Card, Radio, RadioGroup, Subtitle2, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { AdminApiError, denied } from '../api';
import { directory, endUserAccess } from '../client';
import type { Me } from '../contract';
import { ErrorBar, Guard, Hint, Show, useLoad } from '../common';
import { GroupLookup } from '../events/GroupLookup';

const useStyles = makeStyles({
  card: { display: 'flex', flexDirection: 'column', rowGap: '8px' },
  list: { listStyle: 'none', padding: 0, margin: 0, display: 'flex', flexDirection: 'column', rowGap: '4px' },
  item: {
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'space-between',
    gap: '8px',
    flexWrap: 'wrap',
    padding: '4px 0',
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  name: { overflowWrap: 'anywhere', minWidth: 0 },
  actions: { display: 'flex', gap: '8px', flexWrap: 'wrap', alignItems: 'center' },
});

interface Picked {
  id: string;
  name: string;
}

export function EndUserAccessCard({ me }: { me: Me }) {
  const c = useStyles();
  const [value, reload] = useLoad(endUserAccess.get);
  return (
    <Card className={c.card} aria-labelledby="end-user-access-title" data-testid="end-user-access-card">
      <Subtitle2 as="h2" id="end-user-access-title">
        Who may use the end-user apps
      </Subtitle2>
      <Hint>The Outlook pane’s mail, the web continuity inbox and sending through Lifeboat. Everyone sees the continuity status.</Hint>
      <Show value={value} label="Loading who may use the end-user apps…">
        {(access) => <AccessForm me={me} groupIds={access.groupIds} onSaved={reload} />}
      </Show>
    </Card>
  );
}

function AccessForm({ me, groupIds, onSaved }: { me: Me; groupIds: string[] | null; onSaved: () => Promise<void> }) {
  const c = useStyles();
  const [mode, setMode] = useState<'everyone' | 'groups'>(groupIds ? 'groups' : 'everyone');
  const [groups, setGroups] = useState<Picked[]>(() => (groupIds ?? []).map((id) => ({ id, name: id })));
  const [picking, setPicking] = useState(false);
  const [error, setError] = useState<AdminApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const cannot = denied(me, 'basicAdministrator');

  // Names for the stored ids (the setting keeps ids only).
  useEffect(() => {
    let live = true;
    for (const id of groupIds ?? [])
      directory.group(id).then(
        (g) => live && setGroups((list) => list.map((x) => (x.id === id ? { id, name: g.displayName } : x))),
        () => {},
      );
    return () => {
      live = false;
    };
  }, [groupIds]);

  async function save() {
    setError(null);
    setSaved(false);
    try {
      await endUserAccess.put(mode === 'everyone' ? null : groups.map((g) => g.id));
      setSaved(true);
      await onSaved();
    } catch (err) {
      setError(err instanceof AdminApiError ? err : new AdminApiError(String(err), 0));
    }
  }

  return (
    <>
      <RadioGroup
        value={mode}
        onChange={(_, d) => {
          setMode(d.value as 'everyone' | 'groups');
          setSaved(false);
        }}
        aria-labelledby="end-user-access-title"
        disabled={Boolean(cannot)}
      >
        <Radio value="everyone" label="Everyone in the directory" />
        <Radio value="groups" label="Only members of these groups" />
      </RadioGroup>
      {mode === 'groups' ? (
        <>
          {groups.length ? (
            <ul className={c.list} aria-label="Groups whose members may use the end-user apps" data-testid="end-user-access-groups">
              {groups.map((g) => (
                <li key={g.id} className={c.item}>
                  <Text className={c.name}>{g.name}</Text>
                  <Button
                    size="small"
                    disabled={Boolean(cannot)}
                    aria-label={`Remove ${g.name}`}
                    onClick={() => setGroups((list) => list.filter((x) => x.id !== g.id))}
                  >
                    Remove
                  </Button>
                </li>
              ))}
            </ul>
          ) : (
            <Text>No group chosen yet: add at least one.</Text>
          )}
          <div>
            <Button disabled={Boolean(cannot)} onClick={() => setPicking(true)} data-testid="end-user-access-add">
              Add a group…
            </Button>
          </div>
        </>
      ) : null}
      <GroupLookup
        title="Add a group that may use the end-user apps"
        open={picking}
        onClose={() => setPicking(false)}
        onPick={(g) => {
          setPicking(false);
          setSaved(false);
          setGroups((list) => (list.some((x) => x.id === g.id) ? list : [...list, { id: g.id, name: g.displayName }]));
        }}
      />
      {error ? <ErrorBar error={error} title="Could not save who may use the end-user apps" /> : null}
      <div className={c.actions}>
        <Guard reason={cannot}>
          <Button appearance="primary" disabledFocusable={Boolean(cannot)} onClick={() => void save()} data-testid="end-user-access-save">
            Save
          </Button>
        </Guard>
        {saved ? (
          <Text role="status" data-testid="end-user-access-saved">
            Saved. {mode === 'everyone' ? 'Everyone may use the end-user apps.' : 'Only members of these groups may use them now.'}
          </Text>
        ) : null}
      </div>
    </>
  );
}
