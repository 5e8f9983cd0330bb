/**
 * The continuity monitor's inbound check and the SSRF guard: a primary server is resolved and checked
 * when the probe connects, not only when it was saved. A stored server whose name now resolves to a
 * private address (or that is link-local: cloud metadata) is never connected to, and the detection log
 * says only that it was refused — one short reason, no address, no open/closed port oracle.
 */
import net from 'node:net';
import type request from 'supertest';
import { useLifeboat } from '../harness/context';
import { connectAndSync, useGraphStandIns } from '../harness/graph-stand-ins';
import { StandInWorld } from '../stand-ins/entra';

const CLIENT_ID = '77777777-2222-4333-8444-555555555556';
const SECRET = 'monitor-guard-app-secret-0123456789';
const world = new StandInWorld();
const entraTenant = world.addTenant('cccccccc-0000-4000-8000-000000000017');
entraTenant.domains = [{ id: 'alpha.test', isVerified: true, isDefault: true }];
entraTenant.putUser({ id: 'u-probe', displayName: 'Lifeboat Probe', mail: 'probe@alpha.test', userPrincipalName: 'probe@alpha.test' });
entraTenant.registerApp({
  clientId: CLIENT_ID,
  clientSecret: SECRET,
  grantedPermissions: ['GroupMember.Read.All', 'User.Read.All', 'Domain.Read.All', 'Mail.Send', 'Mail.ReadBasic.All'],
});

const standIns = useGraphStandIns(world);

// No private target is allowed (the operator's allow list is empty); a "minute" is 1 s here.
const ctx = useLifeboat({
  graph: standIns.graph,
  services: { allowedPrivateTargets: [], monitor: { minuteMs: 1000, tickMs: 60_000 } },
});

describe('monitor inbound check and private targets', () => {
  let admin: request.Agent;
  let peer: net.Server;
  let peerPort: number;
  let connections = 0;

  beforeAll(async () => {
    // A peer on loopback that counts whoever connects (a private service the probe must not reach).
    peer = net.createServer((socket) => {
      connections++;
      socket.end('220 internal service ready\r\n');
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    peerPort = (peer.address() as net.AddressInfo).port;
    admin = await ctx.signIn('alpha', 'fullAdministrator');
    await connectAndSync(admin, { entraTenantId: entraTenant.id, clientId: CLIENT_ID, clientSecret: SECRET });
  }, 120_000);

  afterAll(async () => {
    await ctx.services.monitor.stop();
    await new Promise<void>((resolve) => peer.close(() => resolve()));
  });

  it('does not connect to a primary server that resolves to a private or link-local address at probe time, and logs a sanitised refusal', async () => {
    const servers = [
      { host: 'localhost', port: peerPort },
      { host: '169.254.169.254', port: 25 },
    ];
    // Written past the API (which refuses them): saved before the rules, or a name that resolved to a public address then.
    await ctx.services.mail.models.settings.updateOne({ _id: 'alpha' }, { $set: { primaryServers: servers } }, { upsert: true });
    expect((await ctx.services.mail.getSettings('alpha')).primaryServers).toEqual(servers);

    const created = await admin
      .post('/api/monitors')
      .send({
        name: 'Guarded flow',
        probeMailbox: 'probe@alpha.test',
        address: 'guard-alpha@monitor.lifeboat.test',
        outbound: { enabled: false },
        alertRecipients: { sms: [], email: [] },
        timeZone: 'Europe/Berlin',
      })
      .expect(201);
    const id = created.body.id as string;
    await ctx.services.monitor.runWindow(id, new Date());

    expect(connections).toBe(0);
    const rows = (await admin.get(`/api/monitors/${id}/log?check=inbound`).expect(200)).body.items as { route: string; outcome: string; error: string }[];
    expect(rows.map((r) => r.route).sort()).toEqual([`169.254.169.254:25`, `localhost:${peerPort}`]);
    for (const row of rows) {
      expect(row).toMatchObject({ outcome: 'failed', error: `SMTP to ${row.route}: refused: the server is not an allowed destination` });
    }
    // The resolved address is not echoed back (what a name resolves to stays with the server).
    expect(JSON.stringify(rows)).not.toMatch(/127\.0\.0\.1|::1|ECONN/);
  });
});
