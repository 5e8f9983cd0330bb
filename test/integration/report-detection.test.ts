/**
 * The post-incident report's "time from detection to event start" for an event the monitor's auto-activation
 * started: the monitor and the event come from the real monitor and event services; only the detector's state
 * (what a failing window writes: detectedAt, autoEventId) is set directly, since windows fail only against a
 * connected tenant (covered end to end, through the portal link, in test/e2e/monitor-flow.test.ts).
 */
import { monitorModels } from '../../server/monitor/model';
import { tenantDirectory, useLifeboat } from '../harness/context';

const BASE = Math.ceil(Date.now() / 3600_000) * 3600_000;
let clock = new Date(BASE);
const ctx = useLifeboat({ now: () => clock, directories: [tenantDirectory('alpha'), tenantDirectory('beta')] });
const none = { ip: null, requestId: null };

describe('report: time from detection to event start', () => {
  test('an auto-activated event reports the minutes since its detection; another tenant cannot see the monitor', async () => {
    const full = await ctx.signIn('alpha', 'fullAdministrator');
    const created = await full
      .post('/api/monitors')
      .send({
        name: 'Primary flow',
        probeMailbox: 'probe@alpha.test',
        address: 'watch-alpha@monitor.lifeboat.test',
        alertRecipients: { sms: ['+15550100'], email: [] },
        defaultGroupId: 'alpha-g1',
        timeZone: 'Europe/Berlin',
        autoActivation: { enabled: true, afterMinutes: 30 },
      })
      .expect(201);
    const models = monitorModels(ctx.conn);
    const m = (await models.monitors.findById(created.body.id).lean())!;

    // Detected at BASE; auto-activation fires 30 minutes later, as the monitor's own identity.
    const detectedAt = new Date(BASE);
    clock = new Date(BASE + 30 * 60_000);
    const by = {
      tenantId: 'alpha',
      adminId: `monitor:${m._id}`,
      email: `auto-activation of monitor ${m._id}`,
      displayName: 'Monitor Primary flow',
      role: 'basicAdministrator' as const,
    };
    const event = await ctx.services.monitor.startEventFor(m, by, { groupId: 'alpha-g1', durationHours: 1 }, none);
    await models.monitors.updateOne({ _id: m._id }, { $set: { 'state.detected': true, 'state.detectedAt': detectedAt, 'state.autoEventId': event.id } });

    clock = new Date(BASE + 31 * 60_000);
    const report = (await full.get(`/api/events/${event.id}/report`).expect(200)).body;
    expect(report.detectionToStart).toMatchObject({
      minutes: 30,
      detectedAt: detectedAt.toISOString(),
      startedVia: 'autoActivation',
      monitorName: 'Primary flow',
      monitorId: m._id,
    });
    expect(report.detectionToStart.detectedAtLocal).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?/);
    expect(report.unknowns.map((u: { metric: string }) => u.metric)).not.toContain('detectionToStart');

    // The detector recovers (autoEventId cleared) and no alert recorded the detection: unknown, saying why.
    await models.monitors.updateOne({ _id: m._id }, { $set: { 'state.detected': false, 'state.detectedAt': null, 'state.autoEventId': null } });
    const later = (await full.get(`/api/events/${event.id}/report`).expect(200)).body;
    expect(later.detectionToStart).toBeNull();
    expect(later.unknowns.find((u: { metric: string }) => u.metric === 'detectionToStart').reason).toMatch(/detection time of that alert is not recorded/);

    // Another tenant's lookup of this monitor finds nothing.
    expect(await ctx.services.monitor.detectionOf('beta', { monitorId: m._id, eventId: event.id, startedAt: clock })).toBeNull();
  });

  test('an event created by an administrator: unknown, not started from a monitor alert', async () => {
    const full = await ctx.signIn('alpha', 'fullAdministrator');
    const created = await full
      .post('/api/events')
      .send({ description: 'By hand', affectedGroupId: 'alpha-g1', timeZone: 'UTC', start: clock.toISOString(), end: null })
      .expect(201);
    const report = (await full.get(`/api/events/${created.body.id}/report`).expect(200)).body;
    expect(report.detectionToStart).toBeNull();
    expect(report.unknowns.find((u: { metric: string }) => u.metric === 'detectionToStart').reason).toMatch(/^Not started from a monitor alert/);
  });
});
