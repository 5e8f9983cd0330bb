/**
 * Directory: the Entra connection, sync and expansions, users with their cloud password (one by one or
 * from a spreadsheet), who may use the end-user apps, the client census.
 */
import { Card, Subtitle2, makeStyles } from '@fluentui/react-components';
import { useState } from 'react';
import { directory } from '../client';
import type { Me } from '../contract';
import { PageHead, Show, useLoad } from '../common';
import { CensusChart } from './CensusChart';
import { ConnectionCard } from './ConnectionCard';
import { SyncCard } from './SyncCard';
import { ImportCard } from './ImportCard';
import { UsersCard } from './UsersCard';
import { EndUserAccessCard } from './EndUserAccessCard';
import { AdminsCard } from '../admins/AdminsCard';

const useStyles = makeStyles({ stack: { display: 'flex', flexDirection: 'column', rowGap: '16px' } });

export function DirectoryPage({ me }: { me: Me }) {
  const c = useStyles();
  const [connected, setConnected] = useState<boolean | null>(null);
  const [census] = useLoad(directory.clientSummary);
  // An applied import changes who has a cloud password: the users list loads again.
  const [imports, setImports] = useState(0);
  return (
    <section aria-labelledby="page-title" className={c.stack}>
      <PageHead title="Directory" />
      <ConnectionCard me={me} onChanged={setConnected} />
      {connected !== null && <SyncCard me={me} connected={connected} />}
      <UsersCard me={me} refreshKey={imports} />
      <ImportCard me={me} onApplied={() => setImports((n) => n + 1)} />
      <EndUserAccessCard me={me} />
      <AdminsCard me={me} />
      <Card>
        <Subtitle2 as="h2">Outlook client census</Subtitle2>
        <Show value={census} label="Loading the client census…">
          {(s) => <CensusChart summary={s} />}
        </Show>
      </Card>
    </section>
  );
}
