/** The tenant's policies, the default first then by priority, with the editor for a new or chosen one and delete. */
import { Button, Card, Subtitle1, Text } from '@fluentui/react-components';
import { useCallback, useEffect, useState } from 'react';
import { denied, type AdminApiError } from '../api';
import { directory, protection } from '../client';
import { ErrorBar, Guard, Hint, ScrollTable } from '../common';
import type { Me, ProtectionPolicy } from '../contract';
import { MODE_LABELS } from './labels';
import { PolicyEditor } from './PolicyEditor';

type Editing = { policy: ProtectionPolicy | null } | null;

export function PoliciesCard({ me, policies, onChanged }: { me: Me; policies: ProtectionPolicy[]; onChanged: () => void }) {
  const [editing, setEditing] = useState<Editing>(null);
  const [groupNames, setGroupNames] = useState<Record<string, string>>({});
  const [error, setError] = useState<AdminApiError | null>(null);
  const reason = denied(me, 'fullAdministrator');

  // Group targets are stored by id: name them from the directory (best effort; the id shows otherwise).
  useEffect(() => {
    directory
      .groups('')
      .then((groups) => setGroupNames((old) => ({ ...Object.fromEntries(groups.map((g) => [g.id, g.displayName])), ...old })))
      .catch(() => undefined);
  }, []);
  const named = useCallback((id: string, name: string) => setGroupNames((old) => ({ ...old, [id]: name })), []);

  const describe = (p: ProtectionPolicy) => {
    if (p.isDefault) return 'Everyone else';
    const side = (label: string, set: ProtectionPolicy['senders']) => {
      const show = (t: { type: string; value: string }) => (t.type === 'group' ? (groupNames[t.value] ?? t.value) : t.value);
      const inc = set.include.length ? set.include.map(show).join(', ') : 'anyone';
      return `${label}: ${inc}${set.exclude.length ? ` except ${set.exclude.map(show).join(', ')}` : ''}`;
    };
    return `${side('From', p.senders)}; ${side('To', p.recipients)}`;
  };

  const remove = async (p: ProtectionPolicy) => {
    if (!window.confirm(`Delete the policy “${p.name}”? Its senders and recipients then follow the next matching policy, or the default.`)) return;
    setError(null);
    try {
      await protection.removePolicy(p.id);
      onChanged();
    } catch (err) {
      setError(err as AdminApiError);
    }
  };

  return (
    <Card data-testid="policies-card">
      <Subtitle1 as="h2">Policies</Subtitle1>
      <Hint>
        A message’s copy for each recipient follows the first policy (lowest priority number) whose senders and recipients match and whose exceptions do not;
        else the default.
      </Hint>
      {error && <ErrorBar error={error} title="Could not delete the policy" />}
      <ScrollTable
        label="Protection policies"
        testId="policies-table"
        rowTestId="policy-row"
        minWidth={720}
        rows={policies}
        rowKey={(p) => p.id}
        columns={[
          { header: 'Priority', cell: (p) => (p.isDefault ? 'Last' : p.priority) },
          { header: 'Name', cell: (p) => <Text weight="semibold">{p.name}</Text> },
          { header: 'Mode', cell: (p) => MODE_LABELS[p.mode] },
          { header: 'Applies to', cell: (p) => describe(p) },
          {
            header: 'Actions',
            cell: (p) => (
              <span style={{ display: 'flex', gap: 4, flexWrap: 'wrap' }}>
                <Button size="small" onClick={() => setEditing({ policy: p })} aria-label={`${reason ? 'View' : 'Edit'} ${p.name}`}>
                  {reason ? 'View' : 'Edit'}
                </Button>
                {!p.isDefault && (
                  <Guard reason={reason}>
                    <Button size="small" disabled={Boolean(reason)} onClick={() => void remove(p)} aria-label={`Delete ${p.name}`}>
                      Delete
                    </Button>
                  </Guard>
                )}
              </span>
            ),
          },
        ]}
      />
      <div>
        <Guard reason={reason}>
          <Button disabled={Boolean(reason)} onClick={() => setEditing({ policy: null })} data-testid="policy-add">
            Add a policy
          </Button>
        </Guard>
      </div>
      {editing && (
        <section aria-label={editing.policy ? `Policy ${editing.policy.name}` : 'New policy'}>
          <Subtitle1 as="h3">{editing.policy ? editing.policy.name : 'New policy'}</Subtitle1>
          <PolicyEditor
            key={editing.policy?.id ?? 'new'}
            policy={editing.policy}
            readOnly={Boolean(reason)}
            groupNames={groupNames}
            onGroupNamed={named}
            onSaved={() => {
              setEditing(null);
              onChanged();
            }}
            onCancel={() => setEditing(null)}
          />
        </section>
      )}
    </Card>
  );
}
