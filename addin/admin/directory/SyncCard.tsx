/** Directory sync: status with a progress bar (polled while running), "Sync now", group expansions. */
import { Button, Card, ProgressBar, Subtitle2, Text, makeStyles } from '@fluentui/react-components';
import { useState } from 'react';
import { denied } from '../api';
import { directory } from '../client';
import type { Me } from '../contract';
import { Empty, ErrorBar, Guard, ScrollTable, Show, useEvery, useLoad } from '../common';
import { ago, showInstant } from '../time';

// The server's own type (type-only: nothing of the server is bundled).

const useStyles = makeStyles({
  card: { display: 'flex', flexDirection: 'column', rowGap: '8px' },
});

const POLL_MS = 1500;

export function SyncCard({ me, connected }: { me: Me; connected: boolean }) {
  const c = useStyles();
  const cannot = denied(me, 'basicAdministrator') ?? (connected ? null : 'Connect the tenant to Entra ID first: the directory file needs no sync.');
  const [sync, reloadSync] = useLoad(directory.sync);
  const [expansions, reloadExpansions] = useLoad(directory.expansions);
  const [startError, setStartError] = useState<Error | null>(null);
  const running = sync.state === 'ready' && sync.data.state === 'running';

  // Poll while a sync runs; when it ends, the expansions have changed.
  useEvery(reloadSync, POLL_MS, running, reloadExpansions);

  async function syncNow() {
    setStartError(null);
    try {
      await directory.syncNow();
    } catch (err) {
      setStartError(err as Error);
    }
    await reloadSync();
  }

  return (
    <Card className={c.card}>
      <Subtitle2 as="h2">Directory sync</Subtitle2>
      <Show value={sync} label="Loading the sync status…">
        {(s) => (
          <div data-testid="sync-status" data-state={s.state}>
            <Text block>
              {s.state === 'idle' && (connected ? 'No sync has run yet.' : 'Not connected to Entra ID: the directory comes from the directory file.')}
              {s.state === 'running' &&
                `Syncing (${s.mode ?? 'sync'}${s.phase ? `, ${s.phase}` : ''}): ${s.pages} pages, ${s.users} users, ${s.groups} groups${s.throttled ? `, throttled ${s.throttled}×` : ''}.`}
              {s.state === 'succeeded' && `Last sync succeeded ${s.finishedAt ? ago(s.finishedAt) : ''}: ${s.users} users, ${s.groups} groups.`}
              {s.state === 'failed' && `Last sync failed ${s.finishedAt ? ago(s.finishedAt) : ''}: ${s.error ?? 'unknown error'}.`}
            </Text>
            {s.state === 'running' && <ProgressBar aria-label="Directory sync progress" thickness="large" />}
            <Text size={200} block>
              Last successful sync: {s.lastSuccessfulSync ? `${showInstant(s.lastSuccessfulSync)} (${ago(s.lastSuccessfulSync)})` : 'never'}
            </Text>
          </div>
        )}
      </Show>
      {startError && <ErrorBar error={startError} title="The sync did not start" />}
      <div>
        <Guard reason={cannot}>
          <Button appearance="primary" disabledFocusable={Boolean(cannot) || running} onClick={syncNow}>
            {running ? 'Sync running…' : 'Sync now'}
          </Button>
        </Guard>
      </div>
      <Subtitle2 as="h3">Group expansions</Subtitle2>
      <Show value={expansions} label="Loading group expansions…">
        {(x) => (
          <>
            {x.lastError && <ErrorBar error={new Error(x.lastError)} title="The last sync failed; membership is that of the last successful one" />}
            {x.groups.length === 0 ? (
              <Empty>
                {connected
                  ? 'No expansions yet: they are computed at the end of a successful sync.'
                  : 'Expansions are computed from Entra ID syncs; this tenant uses the directory file.'}
              </Empty>
            ) : (
              <ScrollTable
                label="Group expansions"
                minWidth={520}
                rows={x.groups}
                rowKey={(g) => g.groupId}
                columns={[
                  { header: 'Group', cell: (g) => g.displayName },
                  { header: 'Kind', cell: (g) => `${g.kind}${g.extended ? ' (extended)' : ''}` },
                  { header: 'Members', cell: (g) => g.memberCount },
                  { header: 'Addresses', cell: (g) => g.addressCount },
                ]}
              />
            )}
          </>
        )}
      </Show>
    </Card>
  );
}
