/** Readiness: one page that answers "are we ready for an outage?". */
import { Fragment } from 'react';
import { Badge, Card, Link, Subtitle2, Text, makeStyles, tokens } from '@fluentui/react-components';
import type { AdminApiError } from '../api';
import * as client from '../client';
import type { ClientSummary, Me, ReadinessSettings } from '../contract';
import { PageHead, Show, useLoad } from '../common';
import { CensusChart } from '../directory/CensusChart';
import { ContinuityInboxLink } from '../InboxLink';
import { ExchangeReadinessCard } from './ExchangeReadinessCard';
import { SpfRegionCard } from './SpfRegionCard';
import {
  adminCheck,
  alertContactsCheck,
  censusCheck,
  cloudPasswordCheck,
  dnsChecks,
  lastEventCheck,
  permissionsCheck,
  signingChecks,
  smsOptInCheck,
  syncCheck,
  type Check,
  type CheckStatus,
  type PermissionsResult,
} from './checks';

const useStyles = makeStyles({
  list: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', rowGap: '8px' },
  head: { display: 'flex', justifyContent: 'space-between', gap: '8px', alignItems: 'baseline', flexWrap: 'wrap' },
  // A DKIM key is one long word: it wraps anywhere rather than widen the page on a phone.
  fix: { color: tokens.colorNeutralForeground2, display: 'block', marginTop: '4px', overflowWrap: 'anywhere' },
  summary: { marginBottom: '12px', display: 'block' },
});

/** The section names the fixes' links show (as the section tabs say). */
const WHERE: Record<NonNullable<Check['where']>, string> = {
  events: 'Events',
  directory: 'Directory',
  monitor: 'Monitor',
  readiness: 'Readiness',
  notifications: 'Notifications',
};

const BADGES: Record<CheckStatus, { color: 'success' | 'warning' | 'danger' | 'informative'; label: string }> = {
  pass: { color: 'success', label: 'Pass' },
  warn: { color: 'warning', label: 'Warning' },
  fail: { color: 'danger', label: 'Fail' },
  unknown: { color: 'informative', label: 'Unknown' },
};

interface Facts {
  checks: Check[];
  census: ClientSummary;
  settings: ReadinessSettings | null;
}

async function permissions(connected: boolean): Promise<PermissionsResult> {
  if (!connected) return { kind: 'notConnected' };
  try {
    return {
      kind: 'ok',
      ...(await client.directory.permissions()),
    };
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
}

async function gather(): Promise<Facts> {
  const connected = await client.directory.connection().then(
    () => true,
    (err: AdminApiError) => {
      if (err.status === 404) return false;
      throw err;
    },
  );
  const [admins, census, sync, events, perms, dns, users, monitors, settings] = await Promise.all([
    client.auth.admins(),
    client.directory.clientSummary(),
    client.directory.sync(),
    client.events.list(true),
    permissions(connected),
    client.readiness.dns().catch((err: Error) => ({ error: err.message })),
    client.readiness.users().catch((err: Error) => ({ error: err.message })),
    client.monitors.list().catch((err: Error) => ({ error: err.message })),
    client.readiness.settings().catch((): ReadinessSettings | null => null),
  ]);
  const ownDomains = 'error' in dns ? [] : dns.domains.map((d) => d.domain);
  const now = Date.now();
  return {
    census,
    settings,
    checks: [
      adminCheck(admins),
      permissionsCheck(perms),
      censusCheck(census),
      syncCheck(connected, sync.lastSuccessfulSync, now),
      lastEventCheck(events, now),
      cloudPasswordCheck(users),
      smsOptInCheck(users),
      alertContactsCheck(monitors, ownDomains),
      ...dnsChecks(dns),
      ...signingChecks(dns),
    ],
  };
}

export function ReadinessPage({ me }: { me: Me }) {
  const c = useStyles();
  const [facts, reload] = useLoad(gather);
  return (
    <section aria-labelledby="page-title">
      <PageHead title="Readiness" />
      <ContinuityInboxLink />
      <Show value={facts} label="Checking readiness…">
        {({ checks, census, settings }) => {
          const count = (s: CheckStatus) => checks.filter((x) => x.status === s).length;
          // The region picker sits right before the SPF checks it decides.
          const firstSpf = checks.findIndex((x) => x.id.startsWith('spf-'));
          return (
            <>
              <Text className={c.summary} data-testid="readiness-summary">
                {count('pass')} passed, {count('warn')} warnings, {count('fail')} failed, {count('unknown')} unknown.
              </Text>
              <ul className={c.list} aria-label="Readiness checks">
                {checks.map((x, i) => (
                  <Fragment key={x.id}>
                    {i === firstSpf && settings && (
                      <li>
                        <SpfRegionCard me={me} settings={settings} onSaved={() => void reload()} />
                      </li>
                    )}
                    <li data-testid="check" data-check={x.id} data-status={x.status}>
                      <Card>
                        <div className={c.head}>
                          <Subtitle2 as="h2">{x.title}</Subtitle2>
                          <Badge appearance="filled" color={BADGES[x.status].color}>
                            {BADGES[x.status].label}
                          </Badge>
                        </div>
                        <Text>{x.detail}</Text>
                        {x.fix && (
                          <Text className={c.fix} data-testid="fix">
                            How to fix: {x.fix}
                            {x.where && (
                              <>
                                {' '}
                                <Link href={`#${x.where}`}>Open {WHERE[x.where]}</Link>
                              </>
                            )}
                          </Text>
                        )}
                        {x.id === 'census' && census.total > 0 && <CensusChart summary={census} />}
                      </Card>
                    </li>
                  </Fragment>
                ))}
                <li data-check="exchange">
                  <ExchangeReadinessCard />
                </li>
              </ul>
            </>
          );
        }}
      </Show>
    </section>
  );
}
