import { createServices, type Services } from '../../server/services';
import { testServiceOptions, useLifeboat } from '../harness/context';
import { phoneDirectory, phoneOf, twilioThrough } from '../harness/notify-fixtures';
import { eventually } from '../harness/eventually';
import { startSmsGateway, type SmsGateway } from '../stand-ins/sms-gateway';

// Starts at the real time (session cookies expire by it), then moves only when a test moves it.
let clock = Math.floor(Date.now() / 60_000) * 60_000;
const now = () => new Date(clock);
const notifyOptions = { retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 }, claimLeaseMs: 60_000 };
const ctx = useLifeboat({ now, directories: [phoneDirectory('alpha'), phoneDirectory('beta')], services: { notify: notifyOptions } });

let gateway: SmsGateway;
const others: Services[] = [];
/** Another Lifeboat node (or the same one after a restart) over the same database. */
function secondNode(): Services {
  const services = createServices(ctx.conn, testServiceOptions({ now, notify: notifyOptions }));
  others.push(services);
  return services;
}

beforeAll(async () => {
  gateway = await startSmsGateway();
  for (const tenant of ['alpha', 'beta']) {
    const owner = await ctx.signIn(tenant, 'fullAdministrator');
    await owner
      .put('/api/notify/settings')
      .send({
        sms: twilioThrough(gateway),
      })
      .expect(200);
    // Opted in: u1 (direct member), u2 and u3 (through the nested group), u4 (not in the SMS group). u5 is a member who never opted in.
    for (const i of [1, 2, 3, 4]) await owner.put(`/api/notify/consents/${tenant}-u${i}`).send({ optedIn: true }).expect(200);
  }
});
afterAll(async () => {
  for (const s of others) await s.notify.stop();
  await gateway.close();
});

const HOUR = 3600_000;
const ALPHA_RECIPIENTS = [1, 2, 3].map((i) => phoneOf('alpha', i)).sort();

async function createEvent(tenant: string, description: string, sms: { startMessage: string; endMessage: string }, lead = HOUR) {
  const owner = await ctx.signIn(tenant, 'basicAdministrator');
  const start = new Date(clock + 2 * HOUR);
  const res = await owner
    .post('/api/events')
    .send({
      description,
      affectedGroupId: `${tenant}-all`,
      timeZone: 'Europe/Paris',
      start: start.toISOString(),
      end: new Date(start.getTime() + HOUR).toISOString(),
      sms: { groupId: `${tenant}-sms`, ...sms, startSendAt: new Date(start.getTime() - lead).toISOString() },
    })
    .expect(201);
  return res.body as { id: string; start: string; end: string; sms: { startSendAt: string } };
}

const sentWith = (body: string) =>
  gateway.delivered
    .filter((r) => r.fields.Body === body)
    .map((r) => String(r.fields.To))
    .sort();

describe('event SMS', () => {
  it('sends the start SMS at its send time and the end SMS at the end, once, to opted-in members only', async () => {
    const event = await createEvent('alpha', 'Exchange outage', {
      startMessage: 'Mail is down. Use the Lifeboat pane in Outlook.',
      endMessage: 'Mail is back.',
    });
    await createEvent('beta', 'Beta outage', { startMessage: 'Beta mail is down.', endMessage: 'Beta mail is back.' });
    const notify = ctx.services.notify;

    await notify.eventSms.runDue();
    expect(sentWith('Email Status: Mail is down. Use the Lifeboat pane in Outlook.')).toEqual([]);

    clock = Date.parse(event.sms.startSendAt);
    await notify.eventSms.runDue();
    expect(sentWith('Email Status: Mail is down. Use the Lifeboat pane in Outlook.')).toEqual(ALPHA_RECIPIENTS);
    expect(sentWith('Email Status: Beta mail is down.')).toEqual([1, 2, 3].map((i) => phoneOf('beta', i)).sort());
    // Not opted in (u5) or not in the group (u4): nothing, for either event.
    const everyone = gateway.delivered.map((r) => r.fields.To);
    for (const tenant of ['alpha', 'beta']) for (const i of [4, 5]) expect(everyone).not.toContain(phoneOf(tenant, i));

    // Passes after that send nothing more (also once the event has started).
    await notify.eventSms.runDue();
    clock = Date.parse(event.start) + 60_000;
    await notify.eventSms.runDue();
    expect(gateway.delivered).toHaveLength(6);

    clock = Date.parse(event.end) + 1000;
    await notify.eventSms.runDue();
    await notify.eventSms.runDue();
    expect(sentWith('Email Status: Mail is back.')).toEqual(ALPHA_RECIPIENTS);
    expect(gateway.delivered).toHaveLength(12);

    const admin = await ctx.signIn('alpha', 'readOnly');
    const log = (await admin.get('/api/notify/log?purpose=event.start').expect(200)).body.items;
    expect(log.map((i: { idempotencyKey: string }) => i.idempotencyKey).sort()).toEqual([1, 2, 3].map((i) => `${event.id}:start:alpha-u${i}`));
    expect(log.every((i: { status: string; userId: string }) => i.status === 'sent' && i.userId.startsWith('alpha-'))).toBe(true);
    expect(ctx.logs()).toMatch(/event start SMS: 3 opted-in recipient\(s\) of 4 member\(s\)/);
  });

  it('a restart in the middle sends no duplicate and misses no one', async () => {
    const event = await createEvent('alpha', 'Restart drill', { startMessage: 'Restart drill.', endMessage: '' });
    clock = Date.parse(event.sms.startSendAt);
    const before = gateway.requests.length;
    // The first message is accepted, the second hangs: the node dies with it in flight.
    gateway.script({ status: 201 }, { status: 201, hold: true });
    const first = ctx.services.notify;
    const pass = first.eventSms.runDue().catch((err: Error) => err);
    await eventually(() => expect(gateway.requests.length - before).toBe(3));
    // It is stopped with the held message in flight; that request then breaks (the gateway never accepted it).
    const stopping = first.stop();
    gateway.dropHeld();
    await stopping;
    expect(await pass).toBeInstanceOf(Error);
    expect(sentWith('Email Status: Restart drill.')).toHaveLength(2);

    // The restarted node: the finished sends are not repeated; the one in flight is finished after its lease.
    const restarted = secondNode().notify;
    await restarted.eventSms.runDue();
    expect(sentWith('Email Status: Restart drill.')).toHaveLength(2);
    clock += 61_000;
    await restarted.eventSms.runDue();
    expect(sentWith('Email Status: Restart drill.')).toEqual(ALPHA_RECIPIENTS);
    await restarted.eventSms.runDue();
    expect(sentWith('Email Status: Restart drill.')).toEqual(ALPHA_RECIPIENTS);
    first.start();
    await first.eventSms.stop();
  });

  it('two nodes due at the same moment send each recipient one SMS', async () => {
    const event = await createEvent('alpha', 'Two nodes', { startMessage: 'Two nodes.', endMessage: 'Two nodes over.' });
    const [a, b] = [ctx.services.notify, secondNode().notify];
    clock = Date.parse(event.sms.startSendAt);
    await Promise.all([a.eventSms.runDue(), b.eventSms.runDue(), a.eventSms.runDue(), b.eventSms.runDue()]);
    expect(sentWith('Email Status: Two nodes.')).toEqual(ALPHA_RECIPIENTS);
    clock = Date.parse(event.end);
    await Promise.all([a.eventSms.runDue(), b.eventSms.runDue()]);
    expect(sentWith('Email Status: Two nodes over.')).toEqual(ALPHA_RECIPIENTS);
  });

  it('runs by itself: the loop sends when the time comes', async () => {
    const event = await createEvent('alpha', 'Loop', { startMessage: 'Loop test.', endMessage: '' }, 30 * 60_000);
    const node = secondNode().notify;
    node.start();
    clock = Date.parse(event.sms.startSendAt) + 1;
    node.eventSms.wake();
    await eventually(() => expect(sentWith('Email Status: Loop test.')).toEqual(ALPHA_RECIPIENTS));
    await node.stop();
  });

  it("shows each event's SMS run on the event and in the report, and warns the form before saving", async () => {
    const admin = await ctx.signIn('alpha', 'readOnly');
    const audience = (await admin.get('/api/notify/sms-audience?groupId=alpha-sms').expect(200)).body;
    expect(audience).toMatchObject({ channelConfigured: true, groupMembers: 4, optedInWithNumber: 3 });
    expect(audience.warnings).toEqual([expect.stringMatching(/^3 of 4 member\(s\) opted in with a phone number/)]);
    expect((await admin.get('/api/notify/sms-audience?groupId=alpha-other').expect(200)).body.warnings).toEqual([]);
    await admin.get('/api/notify/sms-audience').expect(422);

    const event = await createEvent('alpha', 'Run shown', { startMessage: 'Run shown.', endMessage: '' });
    const before = (await admin.get(`/api/events/${event.id}`).expect(200)).body.sms.runs;
    expect(before.map((r: { kind: string; ranAt: string | null }) => [r.kind, r.ranAt])).toEqual([
      ['start', null],
      ['end', null],
    ]);
    clock = Date.parse(event.sms.startSendAt);
    await ctx.services.notify.eventSms.runDue();
    const [start, end] = (await admin.get(`/api/events/${event.id}`).expect(200)).body.sms.runs;
    expect(start).toMatchObject({ kind: 'start', groupMembers: 4, recipients: 3, sent: 3, failed: 0, skipped: [{ reason: 'not opted in', count: 1 }] });
    expect(start.ranAt).toBe(new Date(clock).toISOString());
    expect(end.ranAt).toBeNull();
    clock = Date.parse(event.end) + 1000;
    await ctx.services.notify.eventSms.runDue();
    const report = (await admin.get(`/api/events/${event.id}/report`).expect(200)).body;
    expect(report.sms.group).toEqual({ id: 'alpha-sms', displayName: 'alpha SMS' });
    expect(report.sms.runs[1]).toMatchObject({
      kind: 'end',
      sent: 0,
      skipped: [{ reason: 'no message set', count: 4 }],
    });
    const csv = (await admin.get(`/api/events/${event.id}/report.csv`).expect(200)).text;
    expect(csv).toContain('start SMS sent,3');
    expect(csv).toContain('start SMS skipped: not opted in,1');

    // Without the SMS channel: the form is warned, and the run says why nothing went out.
    const owner = await ctx.signIn('beta', 'fullAdministrator');
    await owner.patch('/api/notify/settings').send({ sms: null }).expect(200);
    const missing = (await owner.get('/api/notify/sms-audience?groupId=beta-sms').expect(200)).body;
    expect(missing.channelConfigured).toBe(false);
    expect(missing.warnings[0]).toMatch(/SMS channel is not configured/);
    const silent = await createEvent('beta', 'No channel', { startMessage: 'Nobody hears this.', endMessage: '' });
    clock = Date.parse(silent.sms.startSendAt);
    await ctx.services.notify.eventSms.runDue();
    const [silentStart] = (await owner.get(`/api/events/${silent.id}`).expect(200)).body.sms.runs;
    expect(silentStart).toMatchObject({ sent: 0, skipped: expect.arrayContaining([{ reason: 'SMS channel not configured', count: 3 }]) });
    expect(sentWith('Email Status: Nobody hears this.')).toEqual([]);
  });
});
