/**
 * The reaction catalogue on the real services: a failing listener is logged with the reaction and listener
 * names and never silences the listeners after it; once push is attached, every catalogued listener is.
 */
import type { AdminIdentity } from '../../server/auth/identity';
import { transitionModel } from '../../server/events/model';
import { createLogger } from '../../server/log';
import { createServices } from '../../server/services';
import { testServiceOptions, useLifeboat } from '../harness/context';
import { eventually } from '../harness/eventually';
import { startLiveServer } from '../harness/live-server';

const planner: AdminIdentity = { tenantId: 'alpha', adminId: 'a1', email: 'planner@alpha.test', displayName: 'Planner', role: 'fullAdministrator' };
const context = { ip: null, requestId: null };

describe('reactions', () => {
  const ctx = useLifeboat();

  /** Another composition of the services on the test database, whose log lines are kept. */
  function servicesWithLog() {
    const lines: string[] = [];
    const services = createServices(ctx.conn, testServiceOptions({ logger: createLogger('debug', { write: (l: string) => void lines.push(l) }) }));
    const failures = () =>
      lines
        .map((l) => JSON.parse(l) as { reaction?: string; listener?: string; err?: { message?: string } })
        .filter((l) => l.reaction)
        .map((l) => ({ reaction: l.reaction, listener: l.listener, error: l.err?.message }));
    return { services, failures };
  }

  it('logs a failing listener of an event start and still runs the ones after it; the transition is dispatched', async () => {
    const { services, failures } = servicesWithLog();
    const later: string[] = [];
    services.reactions.on('event:started', 'push.banners', () => {
      throw new Error('banners are down');
    });
    services.reactions.on('event:started', 'push.prepare-end', ({ event }) => void later.push(event._id.toHexString()));
    services.scheduler.start();
    try {
      const created = await services.events.create(
        planner,
        { description: 'Outage', affectedGroupId: 'alpha-g1', timeZone: 'UTC', start: new Date(Date.now() - 60_000).toISOString(), end: null },
        context,
      );
      await eventually(() => expect(later).toEqual([created.id]));
      expect(failures()).toEqual([{ reaction: 'event:started', listener: 'push.banners', error: 'banners are down' }]);
      await eventually(async () =>
        expect(
          (
            await transitionModel(ctx.conn)
              .findOne({ key: `${created.id}:start` })
              .lean()
          )?.dispatchedAt,
        ).toBeInstanceOf(Date),
      );
    } finally {
      await services.scheduler.stop();
    }
  });

  it('logs a failing listener of an event edit (no longer dropped silently); the edit itself succeeds', async () => {
    const { services, failures } = servicesWithLog();
    services.reactions.on('event:changed', 'push.status', async () => {
      throw new Error('push is down');
    });
    const created = await services.events.create(
      planner,
      { description: 'Later', affectedGroupId: 'alpha-g1', timeZone: 'UTC', start: new Date(Date.now() + 3600_000).toISOString(), end: null },
      context,
    );
    expect(created.description).toBe('Later');
    await eventually(() => expect(failures()).toEqual([{ reaction: 'event:changed', listener: 'push.status', error: 'push is down' }]));
  });

  it('stops at a failing directory listener, as an import always did, and says so in the log', async () => {
    const { services, failures } = servicesWithLog();
    services.reactions.on('directory:changed', 'push.status', () => {
      throw new Error('push is down');
    });
    await expect(
      services.directory.importDirectory({ tenant: { id: 'gamma', name: 'Gamma', domains: ['gamma.test'] }, users: [], groups: [] }),
    ).rejects.toThrow('push is down');
    expect(failures()).toEqual([{ reaction: 'directory:changed', listener: 'push.status', error: 'push is down' }]);
  });

  it('has every catalogued listener attached once push is wired', async () => {
    const live = await startLiveServer(ctx);
    try {
      expect(ctx.services.reactions.unattached()).toEqual([]);
    } finally {
      await live.close();
    }
  });
});
