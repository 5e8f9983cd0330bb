/**
 * The admin page shell: sign-in, then a navigation bar and one section at a time. Sections are
 * addressed by the URL hash (#events, #audit, …) so reloads and links keep the place.
 */
import { Button, MessageBar, MessageBarBody, Spinner, Tab, TabList, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useCallback, useEffect, useState } from 'react';
import { ROLE_LABELS } from '../../server/shared/constants';
import { AdminApiError, SESSION_ENDED } from './api';
import { auth } from './client';
import type { Me } from './contract';
import { AuditPage } from './audit/AuditPage';
import { DirectoryPage } from './directory/DirectoryPage';
import { EventsPage } from './events/EventsPage';
import { MailPage } from './mail/MailPage';
import { MonitorPage } from './monitor/MonitorPage';
import { NotificationsPage } from './notify/NotificationsPage';
import { ProtectionPage } from './protection/ProtectionPage';
import { ReadinessPage } from './readiness/ReadinessPage';
import { SignIn } from './SignIn';
import { ThreatScanPage } from './threats/ThreatScanPage';

const SECTIONS = [
  { id: 'events', label: 'Events' },
  { id: 'readiness', label: 'Readiness' },
  { id: 'directory', label: 'Directory' },
  { id: 'audit', label: 'Audit' },
  { id: 'monitor', label: 'Monitor' },
  { id: 'mail', label: 'Mail' },
  { id: 'protection', label: 'Protection' },
  { id: 'notifications', label: 'Notifications' },
  { id: 'threats', label: 'Threat Scan' },
] as const;
type Section = (typeof SECTIONS)[number]['id'];

const sectionOfHash = (): Section => {
  // The first segment names the section (#events/new is the events section's form).
  const id = window.location.hash.replace(/^#\/?/, '').split('/')[0];
  return (SECTIONS.find((s) => s.id === id)?.id ?? 'events') as Section;
};

const useStyles = makeStyles({
  header: {
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    justifyContent: 'space-between',
    gap: '8px',
    padding: '8px 16px',
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  brand: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase400, color: tokens.colorNeutralForegroundOnBrand },
  who: { display: 'flex', alignItems: 'center', gap: '8px', flexWrap: 'wrap', color: tokens.colorNeutralForegroundOnBrand },
  nav: { overflowX: 'auto', borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, backgroundColor: tokens.colorNeutralBackground1 },
  // The tabs line up with the page content below them.
  // On a phone the tabs wrap onto a second row instead of running off-screen unseen.
  tabs: { maxWidth: '1100px', margin: '0 auto', padding: '0 4px', boxSizing: 'border-box', flexWrap: 'wrap' },
  main: { padding: '16px', maxWidth: '1100px', margin: '0 auto', boxSizing: 'border-box' },
});

type Phase = { kind: 'checking' } | { kind: 'signedOut'; notice: string | null } | { kind: 'signedIn'; me: Me };

export function AdminApp() {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });

  useEffect(() => {
    auth
      .me()
      .then((me) => setPhase({ kind: 'signedIn', me }))
      .catch((err: AdminApiError) => setPhase({ kind: 'signedOut', notice: err.status === 401 ? null : err.message }));
  }, []);

  useEffect(() => {
    const ended = () => setPhase({ kind: 'signedOut', notice: 'Your session has ended. Please sign in again.' });
    window.addEventListener(SESSION_ENDED, ended);
    return () => window.removeEventListener(SESSION_ENDED, ended);
  }, []);

  if (phase.kind === 'checking') return <Spinner label="Starting Lifeboat admin…" style={{ padding: 48 }} />;
  if (phase.kind === 'signedOut') return <SignIn notice={phase.notice} onSignedIn={(me) => setPhase({ kind: 'signedIn', me })} />;
  return <Shell me={phase.me} onSignedOut={(notice) => setPhase({ kind: 'signedOut', notice })} />;
}

function Shell({ me, onSignedOut }: { me: Me; onSignedOut: (notice: string | null) => void }) {
  const s = useStyles();
  const [section, setSection] = useState<Section>(sectionOfHash);

  useEffect(() => {
    const onHash = () => setSection(sectionOfHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const signOut = useCallback(async () => {
    await auth.logout().catch(() => undefined);
    onSignedOut('You have signed out.');
  }, [onSignedOut]);

  return (
    <>
      <header className={s.header}>
        <span className={s.brand}>Lifeboat admin</span>
        <div className={s.who}>
          <Text data-testid="who" style={{ color: 'inherit' }}>
            {me.email} · {ROLE_LABELS[me.role]}
          </Text>
          <Button size="small" onClick={signOut}>
            Sign out
          </Button>
        </div>
      </header>
      <nav className={s.nav} aria-label="Sections">
        <TabList
          className={s.tabs}
          selectedValue={section}
          onTabSelect={(_, d) => {
            window.location.hash = String(d.value);
            setSection(d.value as Section);
          }}
        >
          {SECTIONS.map((x) => (
            <Tab key={x.id} value={x.id}>
              {x.label}
            </Tab>
          ))}
        </TabList>
      </nav>
      <main className={s.main}>
        {me.role === 'readOnly' && (
          <MessageBar intent="info" style={{ marginBottom: 12 }} data-testid="read-only">
            <MessageBarBody>You are a read-only administrator: you can see everything, and the controls that change something are disabled.</MessageBarBody>
          </MessageBar>
        )}
        {section === 'events' && <EventsPage me={me} />}
        {section === 'readiness' && <ReadinessPage me={me} />}
        {section === 'directory' && <DirectoryPage me={me} />}
        {section === 'audit' && <AuditPage />}
        {section === 'monitor' && <MonitorPage me={me} />}
        {section === 'mail' && <MailPage me={me} />}
        {section === 'protection' && <ProtectionPage me={me} />}
        {section === 'notifications' && <NotificationsPage me={me} />}
        {section === 'threats' && <ThreatScanPage me={me} />}
      </main>
    </>
  );
}
