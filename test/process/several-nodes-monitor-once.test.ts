/**
 * Exactly once across nodes for the continuity monitor: two real server processes on ONE database both
 * run the window loop (a short monitor minute, LIFEBOAT_MONITOR_MINUTE_MS, so a window lasts seconds).
 * Each window is run by one node: one probe sent through Graph per window, one detection-log entry per
 * window, and a failing flow raises one alert, sent once by SMS and once by email, not once per node.
 * No Redis: exactly once rests on the database's window claims.
 */
import type { Connection } from 'mongoose';
import { openConnection } from '../../server/db/connection';
import { monitorModels } from '../../server/monitor/model';
import { ADMIN_TENANT_ONLY, createNodes, type Node } from '../harness/nodes';
import { startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { startSmsGateway, type SmsGateway } from '../stand-ins/sms-gateway';
import { startStandIns, StandInWorld, type StandIns } from '../stand-ins/entra';
import { assertCertificateTrusted } from '../stand-ins/tls';

const CLIENT_ID = '41111111-2222-4333-8444-555555555555';
const SECRET = 'several-nodes-monitor-secret-1234';
/** The monitor's minute in these nodes: a 2-minute window lasts 6 s. */
const MINUTE_MS = 3000;
const WINDOW_MS = 2 * MINUTE_MS;
const ONCALL_PHONE = '+15550100';
const ONCALL_EMAIL = 'oncall@example.org';

const world = new StandInWorld();
const contoso = world.addTenant('eeeeeeee-0000-4000-8000-000000000002');
contoso.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
contoso.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All', 'Mail.Send', 'Mail.ReadBasic.All'] });
contoso.putUser({ id: 'probe', displayName: 'Probe', mail: 'probe@contoso.example', userPrincipalName: 'probe@contoso.example' });
contoso.putGroup({ id: 'staff', displayName: 'Staff', members: ['probe'] });
// The stand-in's Exchange sends the probes nowhere (world.mailFlow.smtp is null): every outbound check fails.

// The nodes' file directory holds the administrator's tenant only: it is then connected to the Entra stand-in.
const nodes = createNodes([ADMIN_TENANT_ONLY]);
let standIns: StandIns;
let gateway: SmsGateway;
let oncallMail: SmtpPeer;
let a: Node;
let b: Node;
let conn: Connection;

const json = nodes.call;

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  assertCertificateTrusted();
  [standIns, gateway, oncallMail] = await Promise.all([startStandIns(world), startSmsGateway(), startPeer('accept')]);
  const env = {
    LIFEBOAT_GRAPH_URL: standIns.graphUrl,
    LIFEBOAT_ENTRA_AUTHORITY: standIns.loginUrl,
    LIFEBOAT_MONITOR_MINUTE_MS: String(MINUTE_MS),
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
  };
  // Started together, as a deployment starts its nodes: both seed the same empty database.
  [a, b] = await nodes.startTogether(['a', 'b'], env);
  conn = await openConnection(nodes.databaseUri());
  await nodes.signIn(a);
  await json(a, 'PUT', '/api/notify/settings', {
    sms: { provider: 'twilio', baseUrl: gateway.url, ...gateway.credentials, from: '+15550009999' },
    email: { host: '127.0.0.1', port: oncallMail.port, from: 'lifeboat@acme.test' },
  });
  await nodes.connectEntra(a, { entraTenantId: contoso.id, clientId: CLIENT_ID, clientSecret: SECRET });
}, 120_000);

afterAll(async () => {
  await conn?.close();
  await nodes.stop();
  await standIns?.close();
  await gateway?.close();
  await oncallMail?.close();
});

test('each monitor window is run by one node: one probe per window, one alert sent once per channel', async () => {
  const monitor = await json(b, 'POST', '/api/monitors', {
    name: 'Primary flow',
    probeMailbox: 'probe@contoso.example',
    address: 'watch-acme@monitor.lifeboat.test',
    inbound: { enabled: false },
    outbound: { enabled: true },
    windowMinutes: 2,
    failureThreshold: 2,
    // The alert repeats only after 60 monitor minutes (3 min here): any second alert in this test is a duplicate.
    repeatMinutes: 60,
    alertRecipients: { sms: [ONCALL_PHONE], email: [ONCALL_EMAIL] },
    timeZone: 'UTC',
  });
  const models = monitorModels(conn);
  const windowRows = async () => models.log.find({ monitorId: monitor.id, check: 'window' }).lean();
  const alertSms = () => gateway.delivered.filter((r) => r.fields.To === ONCALL_PHONE);
  const alertMail = () => oncallMail.received.filter((m) => m.to.includes(ONCALL_EMAIL));
  const probesSent = () => world.requests.filter((r) => r.method === 'POST' && /\/users\/[^/]+\/sendMail$/.test(r.path)).length;

  // Two failed windows reach the threshold: the alert goes out.
  await until(() => alertSms().length > 0 && alertMail().length > 0, 90_000, 'the alert by SMS and email');
  // Two more windows: a second node's run of a window (or its alert) would have happened by now.
  const seen = (await windowRows()).length;
  await until(async () => (await windowRows()).length >= seen + 2, 60_000, 'two more windows');
  await new Promise((r) => setTimeout(r, WINDOW_MS)); // and the window under way when they were counted

  const rows = await windowRows();
  const starts = rows.map((r) => r.windowStart.getTime());
  expect(new Set(starts).size).toBe(starts.length); // one log entry per window
  expect(rows.every((r) => r.outcome === 'failed')).toBe(true);
  // One probe per window run (plus at most the one of a window still under way).
  const outboundRows = await models.log.countDocuments({ monitorId: monitor.id, check: 'outbound' });
  expect(outboundRows).toBe(rows.length);
  expect(probesSent() - rows.length).toBeGreaterThanOrEqual(0);
  expect(probesSent() - rows.length).toBeLessThanOrEqual(1);
  // One alert, sent once per channel.
  expect(await models.alerts.countDocuments({ monitorId: monitor.id })).toBe(1);
  expect(alertSms()).toHaveLength(1);
  expect(alertMail()).toHaveLength(1);
}, 240_000);
