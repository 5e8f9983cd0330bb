/**
 * "Are we ready for an outage?" — each check computed from what the API reports, as
 * pass / warn / fail / unknown with how to fix it. Pure: the page fetches, these decide.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'unknown';

export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** How to fix it, naming the page, card and button as the admin page shows them. */
  fix: string | null;
  /** The admin page section where the fix is done (a link is shown beside the fix). */
  where?: 'events' | 'directory' | 'monitor' | 'readiness' | 'notifications';
}

const DAY = 86_400_000;

export function adminCheck(admins: { role: string }[]): Check {
  const title = 'An administrator can sign in with a cloud password';
  const writers = admins.filter((a) => a.role !== 'readOnly');
  if (writers.length >= 2)
    return {
      id: 'admins',
      title,
      status: 'pass',
      detail: `${writers.length} administrators can sign in with a Lifeboat cloud password and start events.`,
      fix: null,
    };
  if (writers.length === 1)
    return {
      id: 'admins',
      title,
      status: 'pass',
      detail: 'One administrator can sign in with a Lifeboat cloud password and start events.',
      fix: 'Add a second basic or full administrator so an outage does not depend on one person: Directory › Administrators, fill in Email, Initial password and Role, then press Add administrator.',
      where: 'directory',
    };
  return {
    id: 'admins',
    title,
    status: 'fail',
    detail: admins.length ? 'Only read-only administrators exist: nobody can start an event.' : 'No administrator exists.',
    fix: 'Directory › Administrators: a full administrator fills in Email, Initial password and Role (Basic or Full administrator), then presses Add administrator.',
    where: 'directory',
  };
}

export type PermissionsResult =
  | { kind: 'notConnected' }
  | { kind: 'error'; message: string }
  | { kind: 'ok'; granted: boolean; permissions: { permission: string; status: string; neededFor: string; optional?: boolean }[] };

export function permissionsCheck(p: PermissionsResult): Check {
  const title = 'Microsoft Graph permissions granted';
  if (p.kind === 'notConnected')
    return {
      id: 'graph',
      title,
      status: 'unknown',
      detail: 'This tenant is not connected to Entra ID (its directory comes from the directory file), so there are no Graph permissions to probe.',
      fix: 'Directory › Entra ID connection: fill in the Entra tenant id, Application (client) id and its secret, then press Connect.',
      where: 'directory',
    };
  if (p.kind === 'error')
    return {
      id: 'graph',
      title,
      status: 'fail',
      detail: `The permission probe failed: ${p.message}`,
      fix: 'Check the app registration, its credential and admin consent in Entra ID, then correct them under Directory › Entra ID connection (Save connection).',
      where: 'directory',
    };
  const missing = p.permissions.filter((x) => x.status !== 'granted');
  if (missing.length === 0)
    return { id: 'graph', title, status: 'pass', detail: `All ${p.permissions.length} application permissions are granted.`, fix: null };
  // Only optional features (Threat Scan, Remove Threats) lack a permission: continuity is not at risk.
  const optionalOnly = missing.every((m) => m.optional);
  return {
    id: 'graph',
    title,
    status: optionalOnly ? 'warn' : 'fail',
    detail: `Missing: ${missing.map((m) => `${m.permission} (${m.neededFor})`).join('; ')}.`,
    fix: 'Grant the missing application permissions with admin consent in Entra ID › App registrations › API permissions.',
  };
}

export function censusCheck(s: { total: number; readiness: { ready: number; unknown: number; notCapable: number } }): Check {
  const title = 'Outlook clients can enter continuity mode';
  if (s.total === 0)
    return {
      id: 'census',
      title,
      status: 'unknown',
      detail: 'No Outlook client has reported yet.',
      fix: 'Deploy the Lifeboat add-in (Integrated apps) and have users open it once.',
    };
  const detail = `${s.readiness.ready} of ${s.total} ready, ${s.readiness.unknown} unknown, ${s.readiness.notCapable} cannot (new Outlook, web, mobile, or classic without cached mode).`;
  if (s.readiness.notCapable === 0 && s.readiness.unknown === 0) return { id: 'census', title, status: 'pass', detail, fix: null };
  return {
    id: 'census',
    title,
    status: 'warn',
    detail,
    fix: 'Turn on Cached Exchange Mode in classic Outlook (and have users confirm it in the add-in); point users of new Outlook, the web and mobile to the continuity inbox.',
  };
}

export function syncCheck(connected: boolean, lastSuccessfulSync: string | null, now: number): Check {
  const title = 'Directory sync is fresh (last success < 24 h)';
  if (!connected)
    return {
      id: 'sync',
      title,
      status: 'unknown',
      detail: 'Not connected to Entra ID: the directory comes from the directory file, reloaded at every server start.',
      fix: 'Directory › Entra ID connection: press Connect (with the tenant id, client id and secret) to keep groups current.',
      where: 'directory',
    };
  if (!lastSuccessfulSync)
    return {
      id: 'sync',
      title,
      status: 'fail',
      detail: 'No directory sync has succeeded yet.',
      fix: 'Directory › Directory sync: press Sync now and fix the error it reports.',
      where: 'directory',
    };
  const age = now - Date.parse(lastSuccessfulSync);
  if (age < DAY) return { id: 'sync', title, status: 'pass', detail: `Last successful sync ${Math.round(age / 3_600_000)} h ago.`, fix: null };
  return {
    id: 'sync',
    title,
    status: 'fail',
    detail: `Last successful sync ${Math.round(age / DAY)} days ago.`,
    fix: 'Directory › Directory sync: press Sync now and fix the error it reports.',
    where: 'directory',
  };
}

export function lastEventCheck(events: { start: string; description: string }[], now: number): Check {
  const title = 'A drill or event has run recently';
  const started = events.filter((e) => Date.parse(e.start) <= now).sort((a, b) => Date.parse(b.start) - Date.parse(a.start));
  if (started.length === 0)
    return {
      id: 'drill',
      title,
      status: 'warn',
      detail: 'No continuity event or drill has ever started.',
      fix: 'Run a drill: Events › New continuity event for a pilot group, a short end, Create event; then End Now on its card.',
      where: 'events',
    };
  const last = started[0];
  const days = Math.floor((now - Date.parse(last.start)) / DAY);
  const detail = `Last: “${last.description}” on ${last.start.slice(0, 10)} (${days} days ago).`;
  if (days <= 90) return { id: 'drill', title, status: 'pass', detail, fix: null };
  return {
    id: 'drill',
    title,
    status: 'warn',
    detail,
    fix: 'Run a drill at least every quarter: Events › New continuity event (or Clone on the last one), then End Now.',
    where: 'events',
  };
}

export interface UserFigures {
  users: number;
  cloudPassword: { users: number; percent: number | null };
  smsOptIn: { users: number; percent: number | null } | null;
}

/** Share of directory users who can sign in to the add-in with a cloud password when Entra ID is down. */
export function cloudPasswordCheck(f: UserFigures | { error: string }): Check {
  const id = 'cloud-passwords';
  const title = 'Users with a cloud password';
  const fix =
    'Directory › Users: press Set cloud password beside a user (Generate a password makes one), or Directory › Import cloud passwords from a spreadsheet for many at once; start with the people who must work through an outage.';
  if ('error' in f) return { id, title, status: 'unknown', detail: `The figures could not be read: ${f.error}`, fix: null };
  if (f.users === 0 || f.cloudPassword.percent === null)
    return {
      id,
      title,
      status: 'unknown',
      detail: 'The directory has no users yet.',
      fix: 'Load the directory first: the directory file, or Directory › Entra ID connection and Sync now.',
      where: 'directory',
    };
  const detail = `${f.cloudPassword.percent}% (${f.cloudPassword.users} of ${f.users} users) can sign in to Lifeboat without Entra ID.`;
  if (f.cloudPassword.percent >= 80) return { id, title, status: 'pass', detail, fix: null };
  if (f.cloudPassword.users > 0) return { id, title, status: 'warn', detail, fix, where: 'directory' };
  return {
    id,
    title,
    status: 'fail',
    detail: `No user has a cloud password: nobody can sign in to Lifeboat while Entra ID is down (${f.users} users).`,
    fix,
    where: 'directory',
  };
}

/** SMS consent: unknown until the server reports it (never shown as 0%). */
export function smsOptInCheck(f: UserFigures | { error: string }): Check {
  const id = 'sms-opt-in';
  const title = 'Users opted in to SMS';
  if ('error' in f || !f.smsOptIn || f.smsOptIn.percent === null)
    return {
      id,
      title,
      status: 'unknown',
      detail: 'This Lifeboat server does not report SMS consent yet, so the share of users who receive event SMS is unknown.',
      fix: 'Nothing to do now; this check lights up when the server records SMS consent.',
    };
  const detail = `${f.smsOptIn.percent}% (${f.smsOptIn.users} of ${f.users} users) receive event SMS.`;
  return {
    id,
    title,
    status: f.smsOptIn.percent >= 80 ? 'pass' : f.smsOptIn.users > 0 ? 'warn' : 'fail',
    detail,
    fix:
      f.smsOptIn.percent >= 80
        ? null
        : 'Ask users to opt in to SMS in the Lifeboat add-in (or to reply START to an SMS); Directory › Users shows each user’s SMS consent.',
    where: 'directory',
  };
}

export interface MonitorAlerts {
  name: string;
  enabled: boolean;
  alertRecipients: { sms: string[]; email: string[] };
}

/**
 * Alert contacts: the enabled monitors' SMS numbers and email addresses. During an outage mail to the
 * tenant's own domains may not arrive, so addresses inside them (or a subdomain) only warn.
 */
export function alertContactsCheck(monitors: MonitorAlerts[] | { error: string }, ownDomains: string[]): Check {
  const id = 'alerts';
  const title = 'Alert contacts configured outside the tenant’s own domains';
  if ('error' in monitors) return { id, title, status: 'unknown', detail: `The monitors could not be read: ${monitors.error}`, fix: null };
  const enabled = monitors.filter((m) => m.enabled);
  const sms = [...new Set(enabled.flatMap((m) => m.alertRecipients.sms))];
  const email = [...new Set(enabled.flatMap((m) => m.alertRecipients.email.map((a) => a.toLowerCase())))];
  const addFix =
    'On the Monitor page, press Edit configuration and fill in Alert SMS numbers and Alert email addresses (one outside your own domains), then Save monitor.';
  if (enabled.length === 0)
    return {
      id,
      title,
      status: 'fail',
      detail: monitors.length
        ? 'No monitor is enabled, so nobody is alerted when mail stops.'
        : 'No continuity monitor is configured, so nobody is alerted when mail stops.',
      fix: monitors.length
        ? 'On the Monitor page, press Edit configuration, tick Enabled and fill in Alert SMS numbers and Alert email addresses, then Save monitor.'
        : 'On the Monitor page, press New monitor and fill in Alert SMS numbers and an Alert email address outside your own domains, then Save monitor.',
      where: 'monitor',
    };
  if (sms.length === 0 && email.length === 0)
    return { id, title, status: 'fail', detail: 'No enabled monitor has an alert contact: a detected outage alerts nobody.', fix: addFix, where: 'monitor' };
  const own = ownDomains.map((d) => d.toLowerCase());
  const inside = email.filter((a) => {
    const domain = a.slice(a.lastIndexOf('@') + 1);
    return own.some((d) => domain === d || domain.endsWith(`.${d}`));
  });
  const counts = `${sms.length} SMS ${sms.length === 1 ? 'number' : 'numbers'} and ${email.length} email ${email.length === 1 ? 'address' : 'addresses'}`;
  const problems: string[] = [];
  if (inside.length)
    problems.push(
      `${inside.join(', ')} ${inside.length === 1 ? 'is' : 'are'} inside your own domains: during an outage ${inside.length === 1 ? 'it' : 'they'} may not receive the alert.`,
    );
  if (sms.length === 0) problems.push('No alert SMS number: alerts go by email only.');
  if (problems.length === 0) return { id, title, status: 'pass', detail: `Alerts go to ${counts}, none inside your own domains.`, fix: null };
  const fixes: string[] = [];
  if (inside.length) fixes.push('add to Alert email addresses one outside your own domains (for example a personal or partner mailbox)');
  if (sms.length === 0) fixes.push('add at least one alert SMS number to Alert SMS numbers');
  return {
    id,
    title,
    status: 'warn',
    detail: `Alerts go to ${counts}. ${problems.join(' ')}`,
    fix: `On the Monitor page, press Edit configuration and ${fixes.join(', and ')}; then Save monitor.`,
    where: 'monitor',
  };
}

export interface DnsReport {
  spfInclude: string | null;
  domains: {
    domain: string;
    spf: { status: CheckStatus; record: string | null; detail: string };
    dmarc: { status: CheckStatus; record: string | null; detail: string };
  }[];
  /** Lifeboat's ARC/DKIM key: the selector record per domain and Exchange Online's ARC trust line (null: signing off). */
  signing?: {
    selector: string;
    sealerDomain: string | null;
    exchangeOnline: string | null;
    records: { domain: string; name: string; type: 'TXT'; value: string; status: CheckStatus; record: string | null; detail: string }[];
  } | null;
}

/**
 * One check per domain that its selector record publishes Lifeboat's key (ARC seal, DKIM), and one
 * reminder with the Exchange Online line that trusts the sealer (its setting cannot be read from here).
 */
export function signingChecks(report: DnsReport | { error: string }): Check[] {
  if ('error' in report || !report.signing) return [];
  const { signing } = report;
  const records: Check[] = signing.records.map((r) => ({
    id: `signing-${r.domain}`,
    title: `Lifeboat's signing key at ${r.domain}`,
    status: r.status,
    detail: r.detail,
    fix: r.status === 'pass' ? null : `Publish one TXT record at ${r.name}: "${r.value}".`,
  }));
  if (!signing.exchangeOnline) return records;
  return [
    ...records,
    {
      id: 'arc-trust',
      title: 'Exchange Online trusts Lifeboat’s ARC seal',
      status: 'unknown',
      detail: `Lifeboat seals mail it delivers onward as ${signing.sealerDomain}, so Exchange Online can keep the original SPF, DKIM and DMARC results once it trusts that sealer.`,
      fix: `In Exchange Online PowerShell, run: ${signing.exchangeOnline}`,
    },
  ];
}

/** One SPF and one DMARC check per accepted domain, from GET /api/readiness/dns. */
export function dnsChecks(report: DnsReport | { error: string }): Check[] {
  if ('error' in report)
    return [
      {
        id: 'dns',
        title: 'SPF and DMARC of the accepted domains',
        status: 'unknown',
        detail: `The DNS check could not run: ${report.error}`,
        fix: 'Check the server’s DNS resolver (LIFEBOAT_DNS_SERVERS).',
      },
    ];
  if (report.domains.length === 0)
    return [
      {
        id: 'dns',
        title: 'SPF and DMARC of the accepted domains',
        status: 'unknown',
        detail: 'The tenant has no accepted domains.',
        fix: 'Add the tenant’s domains to the directory (or sync from Entra ID).',
      },
    ];
  return report.domains.flatMap((d) => [
    {
      id: `spf-${d.domain}`,
      title: `SPF of ${d.domain}`,
      status: d.spf.status,
      detail: d.spf.record ? `${d.spf.detail} Record: ${d.spf.record}` : d.spf.detail,
      fix:
        d.spf.status === 'pass'
          ? null
          : report.spfInclude
            ? `Publish one TXT record at ${d.domain}: "v=spf1 … include:${report.spfInclude} -all".`
            : 'Choose your outbound relay’s Region (or a Custom include) in “Outbound relay for the SPF checks” above and press Save region, then add its include to the record.',
    },
    {
      id: `dmarc-${d.domain}`,
      title: `DMARC of ${d.domain}`,
      status: d.dmarc.status,
      detail: d.dmarc.record ? `${d.dmarc.detail} Record: ${d.dmarc.record}` : d.dmarc.detail,
      fix: d.dmarc.status === 'pass' ? null : `Publish a TXT record at _dmarc.${d.domain}: "v=DMARC1; p=quarantine; rua=mailto:…".`,
    },
  ]);
}
