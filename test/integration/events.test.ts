import type request from 'supertest';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import type { AdminIdentity } from '../../server/auth/identity';
import type { DirectoryService } from '../../server/directory/service';
import { eventModel, transitionModel } from '../../server/events/model';
import { createEventService } from '../../server/events/service';
import { tenantDirectory, useLifeboat } from '../harness/context';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test' },
    { id: 'u-bob', displayName: 'Bob', mail: 'bob@acme.test' },
    { id: 'u-cy', displayName: 'Cy', mail: 'cy@acme.test' },
  ],
  groups: [
    { id: 'g-all', displayName: 'Everyone', mail: 'all@acme.test', groupTypes: ['Unified'], mailEnabled: true, members: ['g-sales', 'u-cy'] },
    { id: 'g-sales', displayName: 'Sales', mail: 'sales@acme.test', mailEnabled: true, members: ['u-ann'] },
    { id: 'g-ops', displayName: 'Ops', securityEnabled: true, members: ['u-bob'] },
  ],
};

const ctx = useLifeboat({ directories: [acme, tenantDirectory('beta')] });
let admin: request.Agent;
beforeAll(async () => {
  admin = await ctx.signIn('acme', 'basicAdministrator', 'planner@acme.test');
});

function newEvent(overrides: Record<string, unknown> = {}) {
  return {
    description: 'Exchange Online outage',
    affectedGroupId: 'g-all',
    timeZone: 'Europe/Berlin',
    start: iso(Date.now() + HOUR),
    end: iso(Date.now() + 5 * HOUR),
    ...overrides,
  };
}

const paths = (res: request.Response) => (res.body.errors as { path: string }[]).map((e) => e.path).sort();

describe('creating events', () => {
  it('returns the event with defaults, its status and local times', async () => {
    const body = newEvent({ notes: 'Planned test', appNotifications: { startMessage: 'Use Lifeboat', endMessage: 'Back to normal' } });
    const res = await admin.post('/api/events').send(body).expect(201);
    expect(res.headers.location).toBe(`/api/events/${res.body.id}`);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      status: 'pending',
      description: 'Exchange Online outage',
      affectedGroupId: 'g-all',
      affectedGroup: { id: 'g-all', displayName: 'Everyone' },
      notes: 'Planned test',
      outlookContinuity: true,
      cloudPasswordReset: 'inherit',
      expandDistributionLists: false,
      pauseInboundDelivery: false,
      timeZone: 'Europe/Berlin',
      start: body.start,
      end: body.end,
      appNotifications: { startMessage: 'Use Lifeboat', endMessage: 'Back to normal' },
      sms: null,
    });
    expect(res.body.startLocal).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00$/);
    expect((await admin.get(`/api/events/${res.body.id}`).expect(200)).body).toEqual(res.body);
  });

  it('lists every bad field at once', async () => {
    const res = await admin
      .post('/api/events')
      .send({
        description: '',
        affectedGroupId: 'g-nope',
        timeZone: 'Mars/Olympus',
        start: 'tomorrow',
        end: 12,
        cloudPasswordReset: 'fax',
        outlookContinuity: 'yes',
        sms: { groupId: 'g-missing', startMessage: 'x'.repeat(121) },
      })
      .expect(422);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(paths(res)).toEqual([
      'affectedGroupId',
      'cloudPasswordReset',
      'description',
      'end',
      'outlookContinuity',
      'sms.groupId',
      'sms.startMessage',
      'start',
      'timeZone',
    ]);
    expect((await admin.post('/api/events').send({}).expect(422)).body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'affectedGroupId',
      'description',
      'start',
      'timeZone',
    ]);
  });

  it('refuses times without an offset, and an end before the start', async () => {
    expect(
      paths(
        await admin
          .post('/api/events')
          .send(newEvent({ start: '2030-01-01T09:00:00' }))
          .expect(422),
      ),
    ).toEqual(['start']);
    expect(
      paths(
        await admin
          .post('/api/events')
          .send(newEvent({ end: iso(Date.now() + 30 * MINUTE) }))
          .expect(422),
      ),
    ).toEqual(['end']);
    expect(
      paths(
        await admin
          .post('/api/events')
          .send(newEvent({ start: iso(Date.now() - 2 * HOUR), end: iso(Date.now() - HOUR) }))
          .expect(422),
      ),
    ).toEqual(['end']);
  });

  it('accepts a start exactly 5 days ago and refuses 5 days and a minute', async () => {
    const now = Date.now();
    const ok = await admin
      .post('/api/events')
      .send(newEvent({ start: iso(now - 5 * DAY), end: iso(now + HOUR) }))
      .expect(201);
    expect(ok.body.status).toBe('current');
    const refused = await admin
      .post('/api/events')
      .send(newEvent({ start: iso(now - 5 * DAY - MINUTE), end: iso(now + HOUR) }))
      .expect(422);
    expect(refused.body.errors).toEqual([{ path: 'start', message: expect.stringMatching(/at most 5 days in the past/) }]);
  });

  it.each([
    ['notes', 500, (v: string) => ({ notes: v })],
    ['appNotifications.startMessage', 250, (v: string) => ({ appNotifications: { startMessage: v } })],
    ['appNotifications.endMessage', 250, (v: string) => ({ appNotifications: { endMessage: v } })],
    ['sms.startMessage', 120, (v: string) => ({ sms: { groupId: 'g-ops', startMessage: v } })],
    ['sms.endMessage', 120, (v: string) => ({ sms: { groupId: 'g-ops', endMessage: v } })],
    ['description', 200, (v: string) => ({ description: v })],
  ])('%s: %i characters accepted, one more refused', async (path, max, field) => {
    await admin
      .post('/api/events')
      .send(newEvent(field('x'.repeat(max))))
      .expect(201);
    const res = await admin
      .post('/api/events')
      .send(newEvent(field('x'.repeat(max + 1))))
      .expect(422);
    expect(paths(res)).toEqual([path]);
  });

  it('lets the start SMS go out at most 24 hours before the start', async () => {
    const start = Date.now() + 2 * DAY;
    const base = { start: iso(start), end: iso(start + HOUR) };
    const ok = await admin
      .post('/api/events')
      .send(newEvent({ ...base, sms: { groupId: 'g-ops', startMessage: 'Mail is down', startSendAt: iso(start - DAY) } }))
      .expect(201);
    expect(ok.body.sms).toMatchObject({ groupId: 'g-ops', group: { id: 'g-ops', displayName: 'Ops' }, startSendAt: iso(start - DAY) });
    expect(
      paths(
        await admin
          .post('/api/events')
          .send(newEvent({ ...base, sms: { groupId: 'g-ops', startSendAt: iso(start - DAY - MINUTE) } }))
          .expect(422),
      ),
    ).toEqual(['sms.startSendAt']);
    expect(
      paths(
        await admin
          .post('/api/events')
          .send(newEvent({ ...base, sms: { groupId: 'g-ops', startSendAt: iso(start + MINUTE) } }))
          .expect(422),
      ),
    ).toEqual(['sms.startSendAt']);
    const defaulted = await admin
      .post('/api/events')
      .send(newEvent({ ...base, sms: { groupId: 'g-ops' } }))
      .expect(201);
    expect(defaulted.body.sms.startSendAt).toBe(iso(start));
  });

  it('supports eternal events', async () => {
    const res = await admin
      .post('/api/events')
      .send(newEvent({ start: iso(Date.now() - HOUR), end: null }))
      .expect(201);
    expect(res.body).toMatchObject({ status: 'current', end: null, endLocal: null });
  });

  it('shows local times correctly across a daylight-saving change', async () => {
    // Europe/Berlin springs forward at 01:00 UTC on 28 March 2027 (02:00 → 03:00 local).
    const before = await admin
      .post('/api/events')
      .send(newEvent({ start: '2027-03-28T00:30:00Z', end: '2027-03-28T01:30:00Z' }))
      .expect(201);
    expect(before.body.startLocal).toBe('2027-03-28T01:30:00+01:00');
    expect(before.body.endLocal).toBe('2027-03-28T03:30:00+02:00');
    // Wall-clock input in the event's zone: 02:30 does not exist that night, 03:30 does.
    const gap = await admin
      .post('/api/events')
      .send(newEvent({ start: undefined, end: undefined, startLocal: '2027-03-28T02:30', endLocal: '2027-03-28T05:00' }))
      .expect(422);
    expect(gap.body.errors).toEqual([{ path: 'startLocal', message: expect.stringMatching(/does not exist in Europe\/Berlin/) }]);
    const local = await admin
      .post('/api/events')
      .send(newEvent({ start: undefined, end: undefined, startLocal: '2027-03-28T03:30', endLocal: '2027-10-31T02:30' }))
      .expect(201);
    expect(local.body.start).toBe('2027-03-28T01:30:00.000Z');
    // 02:30 on 31 October happens twice; the first (summer time) is meant.
    expect(local.body.end).toBe('2027-10-31T00:30:00.000Z');
    expect(local.body.endLocal).toBe('2027-10-31T02:30:00+02:00');
  });
});

describe('listing, editing, ending and cloning', () => {
  let pending: string;
  let current: string;
  let expired: string;
  beforeAll(async () => {
    const now = Date.now();
    pending = (
      await admin
        .post('/api/events')
        .send(newEvent({ description: 'Later', start: iso(now + 3 * DAY), end: iso(now + 4 * DAY) }))
        .expect(201)
    ).body.id;
    current = (
      await admin
        .post('/api/events')
        .send(newEvent({ description: 'Now', start: iso(now - HOUR), end: null, appNotifications: { startMessage: 'Go', endMessage: 'Done' } }))
        .expect(201)
    ).body.id;
    expired = (
      await admin
        .post('/api/events')
        .send(newEvent({ description: 'Past', start: iso(now - 2 * DAY), end: null }))
        .expect(201)
    ).body.id;
    await admin.post(`/api/events/${expired}/end`).expect(200);
  });

  it('lists current and pending events by default, sorted by start, and all with show=all', async () => {
    const list = (await admin.get('/api/events').expect(200)).body as { id: string; status: string; start: string }[];
    expect(list.map((e) => e.id)).toEqual(expect.arrayContaining([pending, current]));
    expect(list.map((e) => e.id)).not.toContain(expired);
    expect(list.every((e) => e.status !== 'expired')).toBe(true);
    expect([...list].sort((a, b) => a.start.localeCompare(b.start))).toEqual(list);
    const all = (await admin.get('/api/events?show=all').expect(200)).body as { id: string; status: string; end: string }[];
    expect(all.find((e) => e.id === expired)?.status).toBe('expired');
    // Expired ones come after the others, the most recently ended first.
    const ended = (
      await admin
        .post('/api/events')
        .send(newEvent({ description: 'Past, later ended', start: iso(Date.now() - 3 * DAY), end: null }))
        .expect(201)
    ).body.id;
    await admin.post(`/api/events/${ended}/end`).expect(200);
    const again = (await admin.get('/api/events?show=all').expect(200)).body as { id: string; status: string; end: string }[];
    const firstExpired = again.findIndex((e) => e.status === 'expired');
    expect(again.slice(firstExpired).every((e) => e.status === 'expired')).toBe(true);
    const expiredIds = again.filter((e) => e.status === 'expired').map((e) => e.id);
    expect(expiredIds.indexOf(ended)).toBeLessThan(expiredIds.indexOf(expired));
  });

  it('edits an event and audits the changed fields only', async () => {
    const res = await admin.patch(`/api/events/${pending}`).send({ notes: 'Moved to the weekend', pauseInboundDelivery: true }).expect(200);
    expect(res.body).toMatchObject({ notes: 'Moved to the weekend', pauseInboundDelivery: true, description: 'Later' });
    const audit = (await admin.get('/api/audit?category=continuity&limit=500').expect(200)).body.items;
    const entry = audit.find((e: { action: string; target: { id: string } }) => e.action === 'event.updated' && e.target.id === pending);
    expect(entry.before).toEqual({ notes: '', pauseInboundDelivery: false });
    expect(entry.after).toEqual({ notes: 'Moved to the weekend', pauseInboundDelivery: true });
    expect(entry.actor.email).toBe('planner@acme.test');
    await admin
      .patch(`/api/events/${pending}`)
      .send({ notes: 'x'.repeat(501) })
      .expect(422);
  });

  it('keeps expired events read-only', async () => {
    await admin.patch(`/api/events/${expired}`).send({ notes: 'rewrite history' }).expect(409);
    await admin.post(`/api/events/${expired}/end`).expect(409);
  });

  it('ends a current event now, and refuses to end one that has not started', async () => {
    const ended = await admin.post(`/api/events/${current}/end`).expect(200);
    expect(ended.body).toMatchObject({ status: 'expired', endedEarly: true });
    expect(Math.abs(Date.parse(ended.body.end) - Date.now())).toBeLessThan(60_000);
    expect((await admin.get('/api/events').expect(200)).body.map((e: { id: string }) => e.id)).not.toContain(current);
    await admin.post(`/api/events/${pending}/end`).expect(409);
  });

  it('starts a pending event now (its end kept, audited with the planned start); a current or expired one is 409', async () => {
    const now = Date.now();
    const planned = (
      await admin
        .post('/api/events')
        .send(newEvent({ description: 'Planned for tonight', start: iso(now + 6 * HOUR), end: iso(now + 10 * HOUR) }))
        .expect(201)
    ).body;
    const reader = await ctx.signIn('acme', 'readOnly');
    await reader.post(`/api/events/${planned.id}/start`).expect(403);
    const started = (await admin.post(`/api/events/${planned.id}/start`).expect(200)).body;
    expect(started).toMatchObject({ id: planned.id, status: 'current', end: planned.end });
    expect(Date.parse(started.start)).toBeGreaterThanOrEqual(now);
    expect(Date.parse(started.start)).toBeLessThan(Date.parse(planned.start));
    const listed = (await admin.get('/api/events').expect(200)).body.find((e: { id: string }) => e.id === planned.id);
    expect(listed.status).toBe('current');
    const audit = (await admin.get('/api/audit?category=continuity&limit=500').expect(200)).body.items;
    const entry = audit.find((e: { action: string; target: { id: string } }) => e.action === 'event.started' && e.target.id === planned.id);
    expect(entry).toMatchObject({ actor: { email: 'planner@acme.test' }, after: { startedEarly: true, plannedStart: planned.start } });
    expect(entry.target.label).toBe('Planned for tonight (group: Everyone)');
    // Already current, or already over: nothing to start.
    const again = await admin.post(`/api/events/${planned.id}/start`).expect(409);
    expect(again.headers['content-type']).toMatch(/application\/problem\+json/);
    await admin.post(`/api/events/${expired}/start`).expect(409);
    await admin.post(`/api/events/${'f'.repeat(24)}/start`).expect(404);
  });

  it('completes a current event when an admin sets its end in the past, keeping the time given', async () => {
    const now = Date.now();
    const running = (
      await admin
        .post('/api/events')
        .send(newEvent({ description: 'Outage over', start: iso(now - 3 * HOUR), end: null }))
        .expect(201)
    ).body.id;
    const given = iso(now - 30 * MINUTE);
    const ended = (await admin.patch(`/api/events/${running}`).send({ end: given }).expect(200)).body;
    expect(ended).toMatchObject({ status: 'expired', endedEarly: true, requestedEnd: given });
    // It ends when saved, as End Now does, not back in time.
    expect(Date.parse(ended.end)).toBeGreaterThanOrEqual(now);
    const audit = (await admin.get('/api/audit?category=continuity&limit=500').expect(200)).body.items;
    const entry = audit.find((e: { action: string; target: { id: string } }) => e.action === 'event.ended' && e.target.id === running);
    expect(entry.after).toMatchObject({ endedEarly: true, requestedEnd: given, end: ended.end });
    // A pending event and a new one still refuse a past end.
    expect(
      paths(
        await admin
          .post('/api/events')
          .send(newEvent({ start: iso(now - 2 * HOUR), end: given }))
          .expect(422),
      ),
    ).toEqual(['end']);
    expect(paths(await admin.patch(`/api/events/${pending}`).send({ end: given }).expect(422))).toEqual(['end']);
  });

  it('clones with every detail but the affected group, which must be given', async () => {
    const missing = await admin.post(`/api/events/${pending}/clone`).send({}).expect(422);
    expect(paths(missing)).toEqual(['affectedGroupId']);
    await admin
      .patch(`/api/events/${pending}`)
      .send({
        appNotifications: { startMessage: 'Use Lifeboat', endMessage: 'Back to Outlook' },
        sms: { groupId: 'g-sales', startMessage: 'Mail is down', endMessage: 'Mail is back' },
      })
      .expect(200);
    const clone = await admin.post(`/api/events/${pending}/clone`).send({ affectedGroupId: 'g-ops' }).expect(201);
    const original = (await admin.get(`/api/events/${pending}`).expect(200)).body;
    expect(clone.body.id).not.toBe(pending);
    expect(clone.body).toMatchObject({
      affectedGroupId: 'g-ops',
      clonedFrom: pending,
      description: original.description,
      notes: original.notes,
      pauseInboundDelivery: true,
      start: original.start,
      end: original.end,
      appNotifications: { startMessage: 'Use Lifeboat', endMessage: 'Back to Outlook' },
      sms: {
        groupId: 'g-sales',
        group: { id: 'g-sales', displayName: 'Sales' },
        startMessage: 'Mail is down',
        endMessage: 'Mail is back',
        startSendAt: original.sms.startSendAt,
      },
    });
    // An ended event's times are over: a clone of it needs new ones.
    const now = Date.now();
    expect(paths(await admin.post(`/api/events/${expired}/clone`).send({ affectedGroupId: 'g-sales' }).expect(422))).toEqual(['end']);
    await admin
      .post(`/api/events/${expired}/clone`)
      .send({ affectedGroupId: 'g-sales', start: iso(now + HOUR), end: iso(now + 2 * HOUR) })
      .expect(201);
    const actions = (await admin.get('/api/audit?category=continuity&limit=500').expect(200)).body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['event.created', 'event.updated', 'event.ended', 'event.cloned']));
  });

  it('lets read-only admins read but not write, and hides other tenants', async () => {
    const reader = await ctx.signIn('acme', 'readOnly');
    await reader.get(`/api/events/${pending}`).expect(200);
    await reader.post('/api/events').send(newEvent()).expect(403);
    await reader.patch(`/api/events/${pending}`).send({ notes: 'no' }).expect(403);
    await reader.post(`/api/events/${pending}/clone`).send({ affectedGroupId: 'g-ops' }).expect(403);
    const stranger = await ctx.signIn('beta', 'fullAdministrator');
    await stranger.get(`/api/events/${pending}`).expect(404);
    await stranger.patch(`/api/events/${pending}`).send({ notes: 'no' }).expect(404);
    await stranger.post(`/api/events/${pending}/end`).expect(404);
    expect((await stranger.get('/api/events?show=all').expect(200)).body).toEqual([]);
    await stranger.post('/api/events').send(newEvent()).expect(422); // g-all is not a group of beta
  });

  it('deletes only events that never started', async () => {
    const doomed = (
      await admin
        .post('/api/events')
        .send(newEvent({ description: 'Cancelled drill' }))
        .expect(201)
    ).body.id;
    await admin.delete(`/api/events/${doomed}`).expect(204);
    await admin.get(`/api/events/${doomed}`).expect(404);
    await admin.delete(`/api/events/${expired}`).expect(409);
    const running = (
      await admin
        .post('/api/events')
        .send(newEvent({ description: 'Running', start: iso(Date.now() - MINUTE), end: null }))
        .expect(201)
    ).body.id;
    const refused = await admin.delete(`/api/events/${running}`).expect(409);
    expect(refused.body.detail).toMatch(/End Now/);
    expect((await admin.get(`/api/events/${running}`).expect(200)).body.status).toBe('current');
  });

  it('refuses the slower of two concurrent edits with 409, keeping the faster one', async () => {
    // The first edit is held between reading the event and writing it (while it checks the group);
    // a second edit lands meanwhile, so the first must not overwrite it.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let paused!: () => void;
    const reached = new Promise<void>((resolve) => (paused = resolve));
    const directory = ctx.services.directory;
    const slow = createEventService({
      events: eventModel(ctx.conn),
      transitions: transitionModel(ctx.conn),
      audit: ctx.services.audit,
      directory: {
        ...directory,
        getGroup: async (tenantId: string, groupId: string) => {
          paused();
          await gate;
          return directory.getGroup(tenantId, groupId);
        },
      } as DirectoryService,
    });
    const by: AdminIdentity = { tenantId: 'acme', adminId: 'slow', email: 'slow@acme.test', displayName: 'Slow', role: 'basicAdministrator' };
    const first = slow.update(by, pending, { affectedGroupId: 'g-sales', notes: 'first' }, { ip: null, requestId: null });
    const outcome = first.then(
      () => 200,
      (error: { status?: number }) => error.status,
    );
    await reached;
    await admin.patch(`/api/events/${pending}`).send({ notes: 'second' }).expect(200);
    release();
    expect(await outcome).toBe(409);
    expect((await admin.get(`/api/events/${pending}`).expect(200)).body.notes).toBe('second');
  });

  it('refuses an edit made from a version someone else has changed since (409), keeping theirs', async () => {
    // Two admins open the same event; each saves the version it read. The second must not undo the first.
    const edited = (
      await admin
        .post('/api/events')
        .send(newEvent({ description: 'Edited by two' }))
        .expect(201)
    ).body.id as string;
    const read = (await admin.get(`/api/events/${edited}`).expect(200)).body as { updatedAt: string; notes: string };
    const saved = await admin.patch(`/api/events/${edited}`).send({ notes: 'from editor one', updatedAt: read.updatedAt }).expect(200);
    expect(saved.body.updatedAt > read.updatedAt).toBe(true);
    const stale = await admin.patch(`/api/events/${edited}`).send({ notes: 'from editor two', updatedAt: read.updatedAt }).expect(409);
    expect(stale.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(stale.body).toMatchObject({ status: 409, conflict: 'updatedAt', eventId: edited });
    expect(stale.body.detail).toMatch(/changed by someone else/);
    expect((await admin.get(`/api/events/${edited}`).expect(200)).body).toMatchObject({ notes: 'from editor one', updatedAt: saved.body.updatedAt });
    // Editor two reloads and saves from the fresh version: accepted.
    await admin.patch(`/api/events/${edited}`).send({ notes: 'from editor two', updatedAt: saved.body.updatedAt }).expect(200);
    const audit = (await admin.get('/api/audit?category=continuity&limit=500').expect(200)).body.items as {
      action: string;
      target: { id: string };
      after: { notes?: string };
    }[];
    const notes = audit.filter((e) => e.action === 'event.updated' && e.target.id === edited).map((e) => e.after.notes);
    expect(notes.sort()).toEqual(['from editor one', 'from editor two']);
    // A version that is not a time names the field.
    const bad = await admin.patch(`/api/events/${edited}`).send({ notes: 'x', updatedAt: 'yesterday' }).expect(422);
    expect(bad.body.errors).toEqual([expect.objectContaining({ path: 'updatedAt' })]);
  });
});

describe("a user's continuity", () => {
  it('is active while a current Outlook event covers a group the user belongs to, through nesting', async () => {
    const now = Date.now();
    const covering = (
      await admin
        .post('/api/events')
        .send(newEvent({ description: 'Covering', affectedGroupId: 'g-all', start: iso(now - MINUTE), end: null }))
        .expect(201)
    ).body.id;
    await admin
      .post('/api/events')
      .send(newEvent({ description: 'Not Outlook', affectedGroupId: 'g-ops', start: iso(now - MINUTE), end: null, outlookContinuity: false }))
      .expect(201);

    const ann = (await admin.get('/api/users/u-ann/continuity').expect(200)).body; // g-sales ⊂ g-all
    expect(ann.active).toBe(true);
    expect(ann.events.map((e: { id: string }) => e.id)).toContain(covering);
    const bob = (await admin.get('/api/users/u-bob/continuity').expect(200)).body; // only g-ops
    expect(bob.events.map((e: { description: string }) => e.description)).not.toContain('Not Outlook');

    await admin.post(`/api/events/${covering}/end`).expect(200);
    const after = (await admin.get('/api/users/u-ann/continuity').expect(200)).body;
    expect(after.events.map((e: { id: string }) => e.id)).not.toContain(covering);
    await admin.get('/api/users/beta-u1/continuity').expect(404);
  });
});
