/** The events capability's read interface (server/events/coverage.ts): who events cover, when. */
import type request from 'supertest';
import type { DirectoryDocument } from '../../server/directory/file-provider';
import { tenantDirectory, useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';

const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

const acme: DirectoryDocument = {
  tenant: { id: 'acme', name: 'Acme', domains: ['acme.test'] },
  users: [
    { id: 'u-ann', displayName: 'Ann', mail: 'ann@acme.test' },
    { id: 'u-bob', displayName: 'Bob', mail: 'bob@acme.test' },
    { id: 'u-cy', displayName: 'Cy', mail: 'cy@acme.test' },
  ],
  groups: [
    { id: 'g-all', displayName: 'Everyone', mail: 'all@acme.test', mailEnabled: true, members: ['g-sales', 'u-cy'] },
    { id: 'g-sales', displayName: 'Sales', mail: 'sales@acme.test', mailEnabled: true, members: ['u-ann'] },
    { id: 'g-ops', displayName: 'Ops', securityEnabled: true, members: ['u-bob'] },
  ],
};

const ctx = useLifeboat({ directories: [acme, tenantDirectory('beta')] });
let admin: request.Agent;
const ids: Record<string, string> = {};

beforeAll(async () => {
  admin = await ctx.signIn('acme', 'basicAdministrator', 'planner@acme.test');
  const create = async (name: string, body: Record<string, unknown>) => {
    ids[name] = (
      await admin
        .post('/api/events')
        .send({ description: name, timeZone: 'UTC', ...body })
        .expect(201)
    ).body.id;
  };
  // Current for everyone (Sales nested in Everyone), current for Ops without Outlook continuity, one planned for Sales.
  // 'all' starts well after this (the "nothing yet now" check below must not race the clock); 'ops' soon, for End Now.
  await create('all', { affectedGroupId: 'g-all', start: iso(Date.now() + 30_000), end: iso(Date.now() + 5 * HOUR) });
  await create('ops', { affectedGroupId: 'g-ops', outlookContinuity: false, start: iso(Date.now() + 2_000), end: null });
  await create('planned', { affectedGroupId: 'g-sales', start: iso(Date.now() + 3 * HOUR), end: iso(Date.now() + 4 * HOUR) });
});

const names = (events: { description: string }[]) => events.map((e) => e.description).sort();
const later = () => new Date(Date.now() + 40_000);

describe('event coverage', () => {
  it('answers for a user, a group, an address and a tenant at a time', async () => {
    const coverage = ctx.services.events.coverage;
    expect(names(await coverage.ofUser('acme', 'u-ann', { at: later() }))).toEqual(['all']);
    expect(names(await coverage.ofUser('acme', 'u-bob', { at: later() }))).toEqual(['ops']);
    expect(await coverage.ofUser('acme', 'u-bob', { at: later(), outlookOnly: true })).toEqual([]);
    // Nothing has started yet now; three hours on, the planned one covers Ann too.
    expect(await coverage.ofUser('acme', 'u-ann')).toEqual([]);
    expect(names(await coverage.ofUser('acme', 'u-ann', { at: new Date(Date.now() + 3.5 * HOUR) }))).toEqual(['all', 'planned']);
    expect(names(await coverage.ofGroup('acme', 'g-sales', later()))).toEqual(['all']);
    expect(names(await coverage.ofAddress('acme', 'cy@acme.test', later()))).toEqual(['all']);
    expect(await coverage.ofAddress('acme', 'nobody@acme.test', later())).toEqual([]);
    expect(names(await coverage.current('acme', later()))).toEqual(['all', 'ops']);
    expect(await coverage.current('beta', later())).toEqual([]);
  });

  it("keeps a caller's cached copy until it forgets it", async () => {
    const clock = { t: later() };
    const cached = ctx.services.events.coverage.cached(60_000, () => clock.t);
    expect(names(await cached.current('acme'))).toEqual(['all', 'ops']);
    // End Now is refused until the event has started (a moment after it was created).
    await eventually(() => admin.post(`/api/events/${ids.ops}/end`).send({}).expect(200));
    // Filtered by the clock at each use, read once: the edit is not seen until the copy is dropped.
    expect(names(await cached.current('acme'))).toEqual(['all', 'ops']);
    cached.forget('acme');
    expect(names(await cached.current('acme'))).toEqual(['all']);
    clock.t = new Date(Date.now() + 6 * HOUR);
    expect(await cached.current('acme')).toEqual([]);
  });
});
