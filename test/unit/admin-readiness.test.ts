/** The readiness rules of the admin page: pure functions over what the API reports. */
import {
  adminCheck,
  alertContactsCheck,
  censusCheck,
  cloudPasswordCheck,
  lastEventCheck,
  permissionsCheck,
  signingChecks,
  smsOptInCheck,
  syncCheck,
} from '../../addin/admin/readiness/checks';

const NOW = Date.parse('2027-03-28T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW - h * 3_600_000).toISOString();

describe('readiness checks', () => {
  test('admins: read-only admins cannot start an event', () => {
    expect(adminCheck([]).status).toBe('fail');
    expect(adminCheck([{ role: 'readOnly' }]).status).toBe('fail');
    const one = adminCheck([{ role: 'readOnly' }, { role: 'fullAdministrator' }]);
    expect(one.status).toBe('pass');
    expect(one.fix).toMatch(/second/);
    expect(adminCheck([{ role: 'basicAdministrator' }, { role: 'fullAdministrator' }]).fix).toBeNull();
  });

  test('Graph permissions: unknown without a connection, fail naming what is missing', () => {
    expect(permissionsCheck({ kind: 'notConnected' }).status).toBe('unknown');
    expect(permissionsCheck({ kind: 'error', message: 'Entra refused' }).status).toBe('fail');
    const missing = permissionsCheck({
      kind: 'ok',
      granted: false,
      permissions: [
        { permission: 'User.Read.All', status: 'granted', neededFor: 'users' },
        { permission: 'Mail.Send', status: 'missing', neededFor: 'the continuity monitor' },
      ],
    });
    expect(missing.status).toBe('fail');
    expect(missing.detail).toMatch(/Mail\.Send \(the continuity monitor\)/);
    const optional = permissionsCheck({
      kind: 'ok',
      granted: false,
      permissions: [
        { permission: 'User.Read.All', status: 'granted', neededFor: 'users' },
        { permission: 'Mail.Read', status: 'missing', neededFor: 'the Threat Scan', optional: true },
      ],
    });
    expect(optional.status).toBe('warn');
    expect(optional.detail).toMatch(/Mail\.Read \(the Threat Scan\)/);
  });

  test('census: unknown without reports, warn while some clients cannot enter continuity', () => {
    expect(censusCheck({ total: 0, readiness: { ready: 0, unknown: 0, notCapable: 0 } }).status).toBe('unknown');
    expect(censusCheck({ total: 3, readiness: { ready: 2, unknown: 0, notCapable: 1 } }).status).toBe('warn');
    expect(censusCheck({ total: 3, readiness: { ready: 3, unknown: 0, notCapable: 0 } }).status).toBe('pass');
  });

  test('sync freshness: under 24 hours passes', () => {
    expect(syncCheck(false, null, NOW).status).toBe('unknown');
    expect(syncCheck(true, null, NOW).status).toBe('fail');
    expect(syncCheck(true, hoursAgo(23), NOW).status).toBe('pass');
    expect(syncCheck(true, hoursAgo(25), NOW).status).toBe('fail');
  });

  test('last drill or event: only started events count', () => {
    expect(lastEventCheck([{ start: hoursAgo(-48), description: 'future' }], NOW).status).toBe('warn');
    const recent = lastEventCheck(
      [
        { start: hoursAgo(24 * 10), description: 'drill' },
        { start: hoursAgo(24 * 200), description: 'old' },
      ],
      NOW,
    );
    expect(recent.status).toBe('pass');
    expect(recent.detail).toMatch(/drill/);
    expect(lastEventCheck([{ start: hoursAgo(24 * 100), description: 'old' }], NOW).status).toBe('warn');
  });

  test('cloud passwords: a share of the directory; none is a failure, no users is unknown', () => {
    const figures = (users: number, withPassword: number) => ({
      users,
      cloudPassword: { users: withPassword, percent: users ? Math.round((withPassword / users) * 1000) / 10 : null },
      smsOptIn: null,
    });
    expect(cloudPasswordCheck(figures(0, 0)).status).toBe('unknown');
    expect(cloudPasswordCheck(figures(10, 0)).status).toBe('fail');
    const some = cloudPasswordCheck(figures(3, 1));
    expect(some.status).toBe('warn');
    expect(some.detail).toMatch(/33\.3% \(1 of 3 users\)/);
    expect(cloudPasswordCheck(figures(10, 8)).status).toBe('pass');
    expect(cloudPasswordCheck({ error: 'down' }).status).toBe('unknown');
  });

  test('SMS opt-in stays unknown (never 0%) until the server reports consent', () => {
    expect(smsOptInCheck({ users: 3, cloudPassword: { users: 0, percent: 0 }, smsOptIn: null }).status).toBe('unknown');
    expect(smsOptInCheck({ users: 4, cloudPassword: { users: 0, percent: 0 }, smsOptIn: { users: 1, percent: 25 } }).status).toBe('warn');
  });

  test('alert contacts: fail without an enabled monitor or any recipient; warn naming own-domain addresses or no SMS; pass otherwise', () => {
    const monitor = (sms: string[], email: string[], enabled = true) => ({ name: 'M', enabled, alertRecipients: { sms, email } });
    const own = ['contoso.test'];
    expect(alertContactsCheck([], own).status).toBe('fail');
    expect(alertContactsCheck([monitor(['+15550100'], ['ops@partner.example'], false)], own).status).toBe('fail');
    const none = alertContactsCheck([monitor([], [])], own);
    expect(none.status).toBe('fail');
    expect(none.fix).toMatch(/Monitor page/);

    const inside = alertContactsCheck([monitor(['+15550100'], ['ops@contoso.test', 'noc@eu.contoso.test', 'ops@partner.example'])], own);
    expect(inside.status).toBe('warn');
    expect(inside.detail).toContain('ops@contoso.test, noc@eu.contoso.test are inside your own domains');
    expect(inside.detail).not.toContain('ops@partner.example are');
    expect(inside.fix).toMatch(/outside your own domains/);

    const noSms = alertContactsCheck([monitor([], ['ops@partner.example'])], own);
    expect(noSms.status).toBe('warn');
    expect(noSms.detail).toMatch(/No alert SMS number/);
    expect(noSms.fix).toMatch(/SMS number/);

    // A disabled monitor's contacts do not count; an enabled one's do.
    const ok = alertContactsCheck([monitor([], ['x@contoso.test'], false), monitor(['+15550100'], ['ops@partner.example'])], own);
    expect(ok).toMatchObject({ status: 'pass', fix: null });
    expect(ok.detail).toMatch(/1 SMS number and 1 email address/);
    expect(alertContactsCheck({ error: 'down' }, own).status).toBe('unknown');
  });

  test('each fix names the section, the card and the button the admin page really has, and links the section', () => {
    const none = adminCheck([]);
    expect(none).toMatchObject({ where: 'directory' });
    expect(none.fix).toMatch(/Directory › Administrators/);
    expect(none.fix).toMatch(/Add administrator/);
    expect(none.fix).not.toMatch(/\/api\//);
    const passwords = cloudPasswordCheck({ users: 10, cloudPassword: { users: 1, percent: 10 }, smsOptIn: null });
    expect(passwords).toMatchObject({ status: 'warn', where: 'directory' });
    expect(passwords.fix).toMatch(/Directory › Users: press Set cloud password/);
    expect(passwords.fix).toMatch(/Import cloud passwords from a spreadsheet/);
    expect(syncCheck(true, null, NOW)).toMatchObject({ where: 'directory', fix: expect.stringMatching(/Sync now/) });
    expect(lastEventCheck([], NOW)).toMatchObject({ where: 'events', fix: expect.stringMatching(/New continuity event.*End Now/) });
    const alerts = alertContactsCheck([{ name: 'Watch', enabled: true, alertRecipients: { sms: [], email: [] } }], ['contoso.test']);
    expect(alerts).toMatchObject({ where: 'monitor', fix: expect.stringMatching(/Edit configuration.*Alert SMS numbers.*Save monitor/) });
  });

  test('signing: each domain’s selector record (the exact record to publish when missing) and the Exchange Online ARC line', () => {
    const value = 'v=DKIM1; k=rsa; p=MIIB';
    const report = {
      spfInclude: null,
      domains: [],
      signing: {
        selector: 'lifeboat1',
        sealerDomain: 'contoso.test',
        exchangeOnline: 'Set-ArcConfig -Identity Default -ArcTrustedSealers contoso.test',
        records: [
          {
            domain: 'contoso.test',
            name: 'lifeboat1._domainkey.contoso.test',
            type: 'TXT' as const,
            value,
            status: 'fail' as const,
            record: null,
            detail: 'No DKIM record',
          },
          {
            domain: 'fabrikam.test',
            name: 'lifeboat1._domainkey.fabrikam.test',
            type: 'TXT' as const,
            value,
            status: 'pass' as const,
            record: value,
            detail: 'ok',
          },
        ],
      },
    };
    const checks = signingChecks(report);
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['signing-contoso.test', 'fail'],
      ['signing-fabrikam.test', 'pass'],
      ['arc-trust', 'unknown'],
    ]);
    expect(checks[0]!.fix).toBe(`Publish one TXT record at lifeboat1._domainkey.contoso.test: "${value}".`);
    expect(checks[1]!.fix).toBeNull();
    expect(checks[2]!.fix).toBe('In Exchange Online PowerShell, run: Set-ArcConfig -Identity Default -ArcTrustedSealers contoso.test');
    expect(signingChecks({ ...report, signing: null })).toEqual([]);
    expect(signingChecks({ error: 'down' })).toEqual([]);
  });
});
