/** The reaction bus: the catalogue's order and failure policies, whatever the order listeners were attached in. */
import { Types } from 'mongoose';
import type { EventRecord, TransitionRecord } from '../../server/events/model';
import { createLogger } from '../../server/log';
import { createReactions } from '../../server/reactions/bus';
import { REACTIONS } from '../../server/reactions/catalogue';

function bus() {
  const lines: string[] = [];
  const reactions = createReactions(createLogger('debug', { write: (l: string) => void lines.push(l) }));
  const failures = () =>
    lines
      .map((l) => JSON.parse(l) as { reaction?: string; listener?: string; tenantId?: string })
      .filter((l) => l.reaction)
      .map((l) => `${l.reaction} ${l.listener} ${l.tenantId}`);
  return { reactions, failures };
}

const event = { _id: new Types.ObjectId(), tenantId: 'alpha' } as EventRecord;
const transition = { kind: 'start', tenantId: 'alpha' } as TransitionRecord;

describe('the reaction bus', () => {
  it('runs listeners in the catalogue order, not the order they were attached in', async () => {
    const { reactions } = bus();
    const ran: string[] = [];
    for (const { name } of [...REACTIONS['event:started'].listeners].reverse()) reactions.on('event:started', name, () => void ran.push(name));
    await reactions.emit('event:started', { transition, event });
    expect(ran).toEqual(['push.banners', 'mail.hold-release', 'notify.event-sms', 'push.prepare-end']);
  });

  it('in order: logs a failure (thrown or rejected) with the names and runs the later listeners', async () => {
    const { reactions, failures } = bus();
    const ran: string[] = [];
    reactions.on('event:ended', 'push.banners', () => {
      throw new Error('one');
    });
    reactions.on('event:ended', 'mail.hold-release', async () => {
      throw new Error('two');
    });
    reactions.on('event:ended', 'notify.event-sms', () => void ran.push('sms'));
    await reactions.emit('event:ended', { transition: { ...transition, kind: 'end' }, event });
    expect(ran).toEqual(['sms']);
    expect(failures()).toEqual(['event:ended push.banners alpha', 'event:ended mail.hold-release alpha']);
  });

  it('detached: starts every listener synchronously, in order, without waiting; failures are logged', async () => {
    const { reactions, failures } = bus();
    const ran: string[] = [];
    let release!: () => void;
    reactions.on('event:changed', 'scheduler.wake', () => {
      ran.push('wake');
      throw new Error('sync');
    });
    reactions.on('event:changed', 'mail.hold-release', () => {
      ran.push('mail');
      return new Promise<void>((resolve) => (release = resolve));
    });
    reactions.on('event:changed', 'push.status', async () => {
      ran.push('push');
      throw new Error('async');
    });
    void reactions.emit('event:changed', { event });
    expect(ran).toEqual(['wake', 'mail', 'push']);
    await new Promise((r) => setImmediate(r));
    release();
    expect(failures()).toEqual(['event:changed scheduler.wake alpha', 'event:changed push.status alpha']);
  });

  it('in order, stop: a failure is logged, later listeners do not run and the emitter gets the error', async () => {
    const { reactions, failures } = bus();
    const ran: string[] = [];
    reactions.drop('directory:changed', 'mail.caches', () => {
      throw new Error('caches');
    });
    reactions.on('directory:changed', 'push.status', () => void ran.push('push'));
    await expect(reactions.emit('directory:changed', { tenantId: 'alpha' })).rejects.toThrow('caches');
    expect(ran).toEqual([]);
    expect(failures()).toEqual(['directory:changed mail.caches alpha']);
  });

  it('refuses a listener the catalogue does not name, or one attached twice', () => {
    const { reactions } = bus();
    expect(() => reactions.on('event:ended', 'push.prepare-end' as never, () => {})).toThrow(/not a catalogued listener/);
    reactions.on('event:ended', 'push.banners', () => {});
    expect(() => reactions.on('event:ended', 'push.banners', () => {})).toThrow(/already attached/);
  });

  it('logs a failing hook provider with the names and lets the owner see the error', async () => {
    const { reactions, failures } = bus();
    const [guarded] = reactions.providers('mail:intercept', {
      'monitor.probe-replies': {
        claims: async () => null,
        deliver: async () => {
          throw new Error('db down');
        },
      },
    });
    expect(await guarded!.claims('x@y.test')).toBeNull();
    await expect(guarded!.deliver({ tenantId: 'alpha', recipients: [], raw: Buffer.from(''), receivedAt: new Date() })).rejects.toThrow('db down');
    expect(failures()).toEqual(['mail:intercept monitor.probe-replies alpha']);
  });
});
