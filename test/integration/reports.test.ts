/**
 * Post-incident reports (GET /api/events/:id/report and .csv) composed from real activity: an event
 * created, edited, started by the scheduler and ended with End Now; mail received over real SMTP,
 * held by the pausing event and released; a message sent through Lifeboat; panes reporting their
 * Outlook. Also the readiness figures for cloud passwords and the mail queue counts.
 */
import request from 'supertest';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { createLogger } from '../../server/log';
import { createReceiver } from '../../server/mail/receiver';
import { eventually } from '../harness/eventually';
import { tenantDirectory, useLifeboat } from '../harness/context';
import { sendOne, simpleMessage, startPeer, type SmtpPeer } from '../harness/smtp-peers';

const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test', mobilePhone: '+15550100' },
    { id: 'u-bob', displayName: 'Bob', mail: 'bob@acme.test' },
    { id: 'u-cy', displayName: 'Cy', mail: 'cy@acme.test' },
  ],
  groups: [
    { id: 'g-all', displayName: 'Everyone', mail: 'all@acme.test', mailEnabled: true, members: ['g-team', 'u-cy'] },
    { id: 'g-team', displayName: 'Team', mail: 'team@acme.test', mailEnabled: true, members: ['u-ann', 'u-bob'] },
  ],
};

const ctx = useLifeboat({ directories: [acme, tenantDirectory('beta')], services: { mail: { releasePerSecond: 1000 }, schedulerPollMs: 200 } });
let admin: request.Agent;
let primary: SmtpPeer;
let relay: SmtpPeer;
let receiver: ReturnType<typeof createReceiver>;
let port: number;
const tokens: Record<string, string> = {};

async function userToken(id: string, email: string): Promise<string> {
  await admin
    .put(`/api/users/${id}/cloud-password`)
    .send({ password: `${id} password long` })
    .expect(204);
  const res = await request(ctx.app)
    .post('/api/user-auth/login')
    .send({ email, password: `${id} password long` })
    .expect(200);
  return res.body.token as string;
}

async function reportClient(who: string, kind: string, cachedMode: string) {
  await request(ctx.app)
    .post('/api/me/client')
    .set('Authorization', `Bearer ${tokens[who]}`)
    .send({ kind, hostName: 'Outlook', platform: 'PC', accountType: 'office365', hostVersion: '16.0', cachedMode })
    .expect(204);
}

async function send(to: string[], subject: string) {
  const from = 'someone@sender.example';
  return sendOne(port, { from, to, message: simpleMessage({ from, to: to.join(', '), subject }) });
}

/** Every accepted message is in the database and routed (nothing waits in the spool or the routing journal). */
async function routed() {
  await eventually(async () => expect(ctx.services.mail.unrouted()).toBe(0));
}

interface Report {
  final: boolean;
  event: { id: string; description: string; status: string; timeZone: string; startedAt: string | null; endedAt: string | null; endedEarly: boolean };
  durationMinutes: number | null;
  timeline: { at: string; atLocal: string; kind: string; title: string; by: string; detail: string }[];
  users: { affected: number; bannerReceived: { count: number; percent: number | null } };
  clients: { reported: number; ready: number; unknown: number; notCapable: number };
  mail: { received: number; sent: number; held: number; released: number; stillHeld: number; pausedInbound: boolean };
  unknowns: { metric: string; reason: string }[];
}

beforeAll(async () => {
  admin = await ctx.signIn('acme', 'basicAdministrator', 'it@acme.test');
  primary = await startPeer('accept');
  relay = await startPeer('accept');
  receiver = createReceiver({ mail: ctx.services.mail, logger: createLogger('silent'), maxMessageBytes: 64 * 1024 });
  port = await receiver.listen(0, '127.0.0.1');
  await admin
    .put('/api/mail/settings')
    .send({ primaryServers: [{ host: '127.0.0.1', port: primary.port }], relay: { host: '127.0.0.1', port: relay.port } })
    .expect(200);
  tokens.ann = await userToken('u-ann', 'ann@acme.test');
  tokens.bob = await userToken('u-bob', 'bob@acme.test');
  ctx.services.scheduler.start();
});

afterAll(async () => {
  await receiver?.close();
  await primary?.close();
  await relay?.close();
});

describe('post-incident report', () => {
  let eventId: string;

  it('covers an event from creation to End Now: timeline in its zone, users, census, mail received / sent / held / released', async () => {
    // A description a spreadsheet would run as a formula: the CSV must neutralise it.
    const created = await admin
      .post('/api/events')
      .send({
        description: '=HYPERLINK("http://evil.example") outage',
        affectedGroupId: 'g-team',
        timeZone: 'Europe/Berlin',
        start: iso(Date.now() - HOUR),
        end: null,
        pauseInboundDelivery: true,
      })
      .expect(201);
    eventId = created.body.id;
    await eventually(async () => expect((await admin.get(`/api/events/${eventId}`).expect(200)).body.startedAt).not.toBeNull());
    await admin.patch(`/api/events/${eventId}`).send({ notes: 'Exchange Online is down in our region.' }).expect(200);

    // Panes report: Ann on a Mac (ready), Bob on classic Windows (cached mode unknown); Cy (not covered) on the web.
    await reportClient('ann', 'mac', 'always');
    await reportClient('bob', 'classicWindows', 'unknown');
    tokens.cy = await userToken('u-cy', 'cy@acme.test');
    await reportClient('cy', 'web', 'notApplicable');

    await send(['ann@acme.test', 'cy@acme.test'], 'during the outage 1');
    await send(['bob@acme.test'], 'during the outage 2');
    await routed();
    await request(ctx.app)
      .post('/api/me/messages')
      .set('Authorization', `Bearer ${tokens.ann}`)
      .send({ to: ['partner@elsewhere.example'], subject: 'sent via Lifeboat', html: '<p>hi</p>' })
      .expect(201);
    await routed();

    // Ann's pane shows the banner and acknowledges it (twice); Cy is not covered: his receipt is ignored.
    const seen = (who: string) =>
      request(ctx.app)
        .post('/api/me/status/seen')
        .set('Authorization', `Bearer ${tokens[who]}`)
        .send({ eventIds: [eventId] })
        .expect(202);
    expect((await seen('ann')).body).toEqual({ accepted: [eventId] });
    await seen('ann');
    expect((await seen('cy')).body).toEqual({ accepted: [] });

    const during = (await admin.get(`/api/events/${eventId}/report`).expect(200)).body as Report;
    expect(during.final).toBe(false);
    expect(during.mail).toEqual({ received: 2, sent: 1, held: 2, released: 0, stillHeld: 2, pausedInbound: true });

    await admin.post(`/api/events/${eventId}/end`).expect(200);
    await eventually(async () => expect((await admin.get('/api/mail/status').expect(200)).body.release).toMatchObject({ state: 'done', released: 2 }));
    await eventually(async () => expect((await admin.get(`/api/events/${eventId}`).expect(200)).body.endedAt).not.toBeNull());

    const report = (await admin.get(`/api/events/${eventId}/report`).expect(200)).body as Report;
    expect(report.final).toBe(true);
    expect(report.event).toMatchObject({ status: 'expired', timeZone: 'Europe/Berlin', endedEarly: true });
    expect(report.durationMinutes).toBeGreaterThanOrEqual(59);
    expect(report.users.affected).toBe(2);
    expect(report.clients).toMatchObject({ reported: 2, ready: 1, unknown: 1, notCapable: 0 });
    expect(report.mail).toEqual({ received: 2, sent: 1, held: 2, released: 2, stillHeld: 0, pausedInbound: true });
    expect(report.users.bannerReceived).toMatchObject({ count: 1, percent: 50 });
    expect(report.unknowns.map((u) => u.metric).sort()).toEqual(['detectionToStart']);
    // Created by an administrator, not from a monitor alert: detection → start stays unknown, saying why.
    expect(report.unknowns.find((u) => u.metric === 'detectionToStart')?.reason).toMatch(/^Not started from a monitor alert/);

    expect(report.timeline.map((t) => t.kind)).toEqual(['created', 'started', 'edited', 'endNow', 'ended']);
    expect(report.timeline[0].by).toBe('it@acme.test');
    // Backdated by an hour: the scheduler started it at once and says how late that was.
    expect(report.timeline[1].detail).toMatch(/60 min after its scheduled time/);
    expect(report.timeline[2].detail).toBe('Changed: notes');
    expect(report.timeline[4].detail).toMatch(/ended by End Now/);
    for (const t of report.timeline) {
      // The event's zone: Berlin is UTC+01:00 or +02:00, and the wall clock matches the instant.
      expect(t.atLocal).toMatch(/\+0[12]:00$/);
      expect(Date.parse(t.atLocal)).toBe(Math.floor(Date.parse(t.at) / 1000) * 1000);
    }
  });

  it('keeps the mail figures once the continuity mailbox has been swept', async () => {
    await ctx.services.mail.models.mailbox.deleteMany({ tenantId: 'acme' });
    const report = (await admin.get(`/api/events/${eventId}/report`).expect(200)).body as Report;
    expect(report.mail).toMatchObject({ received: 2, sent: 1 });
  });

  it('downloads as formula-safe CSV with the timeline in the event zone', async () => {
    const res = await admin.get(`/api/events/${eventId}/report.csv`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="lifeboat-event-report-${eventId}.csv"`);
    expect(res.text.startsWith('\uFEFFsection,')).toBe(true);
    const lines = res.text.trim().split('\r\n');
    expect(lines[0]).toBe('section,time (Europe/Berlin),item,value');
    expect(lines).toContain(`event,,description,"'=HYPERLINK(""http://evil.example"") outage"`);
    expect(res.text).not.toMatch(/^[^\r\n]*,=/m);
    expect(lines.find((l) => l.startsWith('timeline,') && l.includes('End Now'))).toMatch(
      /^timeline,\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00,End Now,it@acme\.test/,
    );
    expect(lines).toContain('figures,,held mail released,2');
    expect(lines).toContain('figures,,affected users,2');
    expect(lines).toContain('figures,,users whose pane received the start banner,1');
    expect(lines).toContain('figures,,users whose pane received the start banner (%),50');
    expect(res.text).not.toContain('unknown,,Users whose pane received the start banner');
  });

  it('is readable by read-only admins, and only inside the tenant', async () => {
    const reader = await ctx.signIn('acme', 'readOnly');
    await reader.get(`/api/events/${eventId}/report`).expect(200);
    const beta = await ctx.signIn('beta', 'fullAdministrator');
    const foreign = await beta.get(`/api/events/${eventId}/report`).expect(404);
    expect(foreign.headers['content-type']).toMatch(/application\/problem\+json/);
    await beta.get(`/api/events/${eventId}/report.csv`).expect(404);
    await request(ctx.app).get(`/api/events/${eventId}/report`).expect(401);
    await admin.get('/api/events/not-an-id/report').expect(404);
  });

  it('for a pending event: no duration and no figures yet', async () => {
    const pending = await admin
      .post('/api/events')
      .send({ description: 'Next weekend', affectedGroupId: 'g-all', timeZone: 'UTC', start: iso(Date.now() + 48 * HOUR), end: iso(Date.now() + 50 * HOUR) })
      .expect(201);
    const report = (await admin.get(`/api/events/${pending.body.id}/report`).expect(200)).body as Report;
    expect(report).toMatchObject({
      final: false,
      durationMinutes: null,
      users: { affected: 3, bannerReceived: { count: 0, percent: 0 } },
      mail: { received: 0, sent: 0, held: 0, released: 0, pausedInbound: false },
    });
    expect(report.timeline.map((t) => t.kind)).toEqual(['created']);
  });
});

describe('mail status and readiness figures', () => {
  it('mail status counts queued, deferred, held, delivered and failed deliveries of the tenant only', async () => {
    // Ann and Cy's copy, Bob's, and Ann's outbound message.
    await eventually(async () => {
      await ctx.services.mail.worker.tick();
      expect((await admin.get('/api/mail/status').expect(200)).body).toMatchObject({ queued: 0, deferred: 0, held: 0, delivered: 4, failed: 0 });
    });
    const beta = await ctx.signIn('beta', 'readOnly');
    expect((await beta.get('/api/mail/status').expect(200)).body).toMatchObject({ queued: 0, deferred: 0, held: 0, delivered: 0, failed: 0 });
  });

  it('readiness reports the shares of directory users with a cloud password and opted in to SMS (with a number)', async () => {
    expect((await admin.get('/api/readiness/users').expect(200)).body.smsOptIn).toEqual({ users: 0, percent: 0 });
    await admin.put('/api/notify/consents/u-ann').send({ optedIn: true }).expect(200);
    // Bob opts in without a number: he cannot receive SMS, so he does not count.
    await admin.put('/api/notify/consents/u-bob').send({ optedIn: true }).expect(200);
    const users = (await admin.get('/api/readiness/users').expect(200)).body;
    expect(users).toEqual({ users: 3, cloudPassword: { users: 3, percent: 100 }, smsOptIn: { users: 1, percent: 33.3 } });
    const beta = await ctx.signIn('beta', 'readOnly');
    expect((await beta.get('/api/readiness/users').expect(200)).body).toEqual({
      users: 2,
      cloudPassword: { users: 0, percent: 0 },
      smsOptIn: { users: 0, percent: 0 },
    });
  });

  it('a delivery the primary server defers counts as queued and deferred', async () => {
    primary.mode = 'defer';
    await send(['cy@acme.test'], 'deferred');
    await routed();
    await eventually(async () => {
      await ctx.services.mail.worker.tick();
      expect((await admin.get('/api/mail/status').expect(200)).body).toMatchObject({ queued: 1, deferred: 1, held: 0, delivered: 4, failed: 0 });
    });
  });
});
