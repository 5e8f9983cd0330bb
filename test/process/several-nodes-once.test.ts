/**
 * Exactly once across nodes: two real server processes on ONE database (no Redis: exactly once rests on
 * the database's claims, not on Redis) both run every loop. An event's SMS reaches each opted-in member
 * once; mail received through either node is delivered onward once; a node SIGKILLed while it delivers
 * loses nothing (the other delivers the message once its claim expires) and duplicates nothing.
 * (Monitor windows: several-nodes-monitor-once.test.ts, with a short monitor minute; scans, continuous
 * protection and the Sent Items write-back: several-nodes-graph-once.test.ts.)
 */
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { createNodes, type Node } from '../harness/nodes';
import { simpleMessage, sendOne, startPeer, type SmtpPeer } from '../harness/smtp-peers';
import { startSmsGateway, type SmsGateway } from '../stand-ins/sms-gateway';

const phone = (i: number) => `+1555010${i}`;
const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [1, 2, 3].map((i) => ({ id: `u${i}`, displayName: `User ${i}`, mail: `u${i}@acme.test`, mobilePhone: phone(i) })),
  groups: [{ id: 'g-all', displayName: 'Everyone', mail: 'all@acme.test', groupTypes: ['Unified'], mailEnabled: true, members: ['u1', 'u2', 'u3'] }],
};
const LEASE_SECONDS = 10;

const nodes = createNodes([acme]);
let a: Node;
let b: Node;
let gateway: SmsGateway;
let primary: SmtpPeer;

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Each Message-ID the primary server accepted, with how many times. */
function acceptedIds(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of primary.received) {
    const id = /^Message-ID: <([^>]+)>/im.exec(mail.raw)?.[1] ?? '';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

beforeAll(async () => {
  gateway = await startSmsGateway();
  primary = await startPeer('accept');
  // Each node greets the primary server by its own name: the test sees which node is delivering.
  a = await nodes.start('a', { SMTP_HOSTNAME: 'a.lifeboat.test', MAIL_DELIVERY_LEASE_SECONDS: String(LEASE_SECONDS) });
  b = await nodes.start('b', { SMTP_HOSTNAME: 'b.lifeboat.test', MAIL_DELIVERY_LEASE_SECONDS: String(LEASE_SECONDS) });
  await nodes.signIn(a);
  const sms = { provider: 'twilio', baseUrl: gateway.url, ...gateway.credentials, from: '+15550009999' };
  expect((await nodes.api(a, 'PUT', '/api/notify/settings', { sms })).status).toBe(200);
  for (const i of [1, 2, 3]) expect((await nodes.api(a, 'PUT', `/api/notify/consents/u${i}`, { optedIn: true })).status).toBe(200);
  const mail = { primaryServers: [{ host: '127.0.0.1', port: primary.port }], relay: null };
  expect((await nodes.api(a, 'PUT', '/api/mail/settings', mail)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await nodes.stop();
  await gateway?.close();
  await primary?.close();
});

describe('exactly once across two nodes on one database', () => {
  it("sends an event's start SMS once to each opted-in member, though both nodes run the SMS loop", async () => {
    const start = Date.now() + 8000;
    await nodes.createEvent(a, 8000, {
      sms: { groupId: 'g-all', startMessage: 'Mail is down.', endMessage: '', startSendAt: new Date(start - 4000).toISOString() },
    });
    const sent = () => gateway.delivered.filter((r) => r.fields.Body === 'Email Status: Mail is down.').map((r) => String(r.fields.To));
    await until(() => sent().length >= 3, 60_000, 'the start SMS');
    await new Promise((r) => setTimeout(r, 6000)); // both loops have looked again by now (5 s poll)
    expect(sent().sort()).toEqual([1, 2, 3].map(phone));
  }, 90_000);

  it('delivers mail received through either node onward once', async () => {
    const ids: string[] = [];
    for (const [i, node] of [a, b, a, b, a, b].entries()) {
      const messageId = `once-${i}-${Date.now()}@sender.example`;
      ids.push(messageId);
      const to = `u${(i % 3) + 1}@acme.test`;
      const reply = await sendOne(node.smtpPort, {
        from: 'someone@sender.example',
        to: [to],
        message: simpleMessage({ from: 'someone@sender.example', to, subject: `Once ${i}`, messageId }),
      });
      expect(reply.data).toMatch(/^250/);
    }
    await until(() => ids.every((id) => acceptedIds().has(id)), 60_000, 'every message at the primary server');
    await new Promise((r) => setTimeout(r, 3000)); // a second delivery would have happened by now (1 s polls)
    for (const id of ids) expect([id, acceptedIds().get(id)]).toEqual([id, 1]);
  }, 90_000);

  it('a node SIGKILLed while it delivers: the other node delivers the message once its claim expires, once', async () => {
    primary.delayMs = 5000; // the primary server is slow to answer the end of DATA (less than the claim lasts): the delivery is in flight
    const messageId = `killed-${Date.now()}@sender.example`;
    const reply = await sendOne(a.smtpPort, {
      from: 'someone@sender.example',
      to: ['u1@acme.test'],
      message: simpleMessage({ from: 'someone@sender.example', to: 'u1@acme.test', subject: 'In flight', messageId }),
    });
    expect(reply.data).toMatch(/^250/);
    await until(() => primary.inFlight.length > 0, 60_000, 'a delivery in flight');
    const [delivering, survivor] = primary.inFlight[0] === 'a.lifeboat.test' ? [a, b] : [b, a];
    // The dead node's message is never answered 250 (its connection is gone): the peer defers what it was holding.
    primary.mode = 'defer';
    delivering.server.child.kill('SIGKILL');
    await delivering.server.exited;
    await until(() => primary.inFlight.length === 0, 30_000, 'the held delivery to end');
    primary.delayMs = 0;
    primary.mode = 'accept';
    await until(() => acceptedIds().has(messageId), 60_000, `the survivor (${survivor.name}) to deliver the message`);
    await new Promise((r) => setTimeout(r, 3000));
    expect(acceptedIds().get(messageId)).toBe(1);
  }, 120_000);
});
