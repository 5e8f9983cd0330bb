/**
 * The Threat Scan bench's Microsoft Graph, in a worker thread: the stand-in world (mailboxes of bench
 * mail, the 4-in-flight limit, per-request latency) and its HTTPS servers. Answers `stats` and `close`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startStandIns, StandInWorld } from '../test/stand-ins/entra';
import { benchMessage, CLIENT_ID, SECRET, type GraphStats } from './threat-scan-mail';

const { mailboxes, messages, latencyMs } = workerData as { mailboxes: number; messages: number; latencyMs: number };

async function main() {
  const world = new StandInWorld();
  world.mail.options.latencyMs = latencyMs;
  const tenant = world.addTenant();
  tenant.domains = [{ id: 'contoso.example', isVerified: true, isDefault: true }];
  tenant.registerApp({ clientId: CLIENT_ID, clientSecret: SECRET, grantedPermissions: ['Directory.Read.All', 'Mail.ReadWrite'] });
  for (let u = 0; u < mailboxes; u++) {
    const id = `user-${u}`;
    tenant.putUser({ id, displayName: `User ${u}`, mail: `${id}@contoso.example`, userPrincipalName: `${id}@contoso.example` });
    for (let n = 0; n < messages; n++) tenant.mailbox(id).deliver(benchMessage(u * messages + n), new Date(Date.now() - (n % 29) * 86_400_000));
  }
  // Graph keeps a connection open for minutes: the scan reuses its connections as it would against the real service.
  const standIns = await startStandIns(world, { keepAliveMs: 120_000 });
  parentPort!.on('message', async (what: string) => {
    if (what === 'stats') {
      const boxes = [...tenant.mailboxes.values()];
      const body: GraphStats = {
        requests: world.requests.length,
        tokenRequests: world.tokenRequests,
        maxInFlight: Math.max(...boxes.map((m) => m.maxInFlight)),
        refused: boxes.reduce((a, m) => a + m.refused, 0),
      };
      parentPort!.postMessage({ what, body });
    } else if (what === 'close') {
      await standIns.close();
      parentPort!.postMessage({ what, body: null });
    }
  });
  parentPort!.postMessage({ what: 'ready', body: { loginUrl: standIns.loginUrl, graphUrl: standIns.graphUrl, tenantId: tenant.id } });
}

void main();
