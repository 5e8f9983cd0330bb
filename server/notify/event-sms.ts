/**
 * The events' SMS: at `sms.startSendAt` the start message, once the event has ended the end message,
 * each as `Email Status: <message>` to the opted-in members (transitively) of the event's SMS group.
 *
 * Exactly once per recipient, across restarts and processes: each recipient's send is claimed under
 * the idempotency key `<event>:<kind>:<user>` (an insert under a unique `_id`); a run record
 * `<event>:<kind>` marks an event whose recipients were all claimed, so later passes skip it. A claim
 * left pending by a process that died is finished by another one after its lease (recoverStale).
 */
import { claimByInsert } from '../db/claims';
import type { Logger } from 'pino';
import type { DirectoryService } from '../directory/service';
import type { EventCoverage, EventRecord } from '../events/coverage';
import type { ConsentService } from './consent';
import type { NotifyModels } from './model';
import { createSerialLoop } from '../loops/serial-loop';
import { StoppedError, type NotifyCore } from './service';

export type SmsKind = 'start' | 'end';
export const smsBody = (message: string) => `Email Status: ${message}`;

/** Ended events are looked at for their end SMS this long after their end (a node down longer misses it). */
const END_LOOKBACK_MS = 24 * 3600_000;
const CONCURRENCY = 4;

export function createEventSms(deps: {
  core: NotifyCore;
  consents: ConsentService;
  directory: DirectoryService;
  events: EventCoverage;
  models: NotifyModels;
  logger: Logger;
  now: () => Date;
  pollMs?: number;
}) {
  const { core, consents, directory, events, models, now } = deps;
  const log = deps.logger.child({ component: 'event-sms' });
  const pollMs = deps.pollMs ?? 5000;
  // A wake during a pass (an event started, ended or changed) runs another right after it.
  const loop = createSerialLoop(() =>
    runDue().then(
      () => pollMs,
      (err) => {
        if (!(err instanceof StoppedError)) log.error({ err }, 'event SMS pass failed; retrying');
        return pollMs;
      },
    ),
  );

  async function run(event: EventRecord, kind: SmsKind): Promise<{ recipients: number; sent: number }> {
    const eventId = event._id.toHexString();
    const runId = `${eventId}:${kind}`;
    if (await models.eventRuns.exists({ _id: runId })) return { recipients: 0, sent: 0 };
    const sms = event.sms!;
    const message = kind === 'start' ? sms.startMessage : sms.endMessage;
    // Members are read even without a message, so the run can say whom the empty message skipped.
    const members = await directory.transitiveUserIds(event.tenantId, sms.groupId);
    const recipients = message.trim() ? await consents.optedInRecipients(event.tenantId, members) : [];
    const optedIn = message.trim() ? await consents.optedInCount(event.tenantId, members) : 0;
    const channelConfigured = Boolean((await core.loadSettings(event.tenantId))?.sms?.enabled);
    let sent = 0;
    const queue = [...recipients];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const result = await core.send({
          tenantId: event.tenantId,
          channel: 'sms',
          to: next.phone,
          text: smsBody(message),
          purpose: `event.${kind}`,
          idempotencyKey: `${eventId}:${kind}:${next.userId}`,
          userId: next.userId,
        });
        if (result.status === 'sent') sent++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
    // Another node may have recorded this run first: the same fact, so its claim losing is fine.
    await claimByInsert(models.eventRuns, {
      _id: runId,
      tenantId: event.tenantId,
      eventId,
      kind,
      recipients: recipients.length,
      finishedAt: now(),
      groupMembers: members.length,
      notOptedIn: message.trim() ? members.length - optedIn : 0,
      withoutNumber: Math.max(0, optedIn - recipients.length),
      messageEmpty: !message.trim(),
      channelConfigured,
    });
    log.info(
      { tenantId: event.tenantId, eventId, kind, groupMembers: members.length, optedIn: recipients.length, sentNow: sent, empty: !message.trim() },
      message.trim()
        ? `event ${kind} SMS: ${recipients.length} opted-in recipient(s) of ${members.length} member(s), ${sent} sent by this node`
        : `event ${kind} SMS: no message set, nothing sent`,
    );
    return { recipients: recipients.length, sent };
  }

  /** One pass: due start SMS, end SMS of ended events, sends whose sender died. */
  async function runDue(): Promise<void> {
    const t = now();
    const starts = await events.smsStartsDue(t, 200);
    for (const event of starts) await run(event, 'start');
    const ends = await events.smsEndsDue(t, END_LOOKBACK_MS, 200);
    for (const event of ends) await run(event, 'end');
    await core.recoverStale();
  }

  return {
    run,
    runDue,
    start: () => loop.start(),
    /** Looks again now (an event started, ended or changed). */
    wake: () => loop.wake(),
    stop: () => loop.stop(),
  };
}
export type EventSms = ReturnType<typeof createEventSms>;
