/**
 * Post-incident reports: what happened during one continuity event, composed from the services that
 * own the facts (events and their transitions, the audit trail, the directory, the client census,
 * continuity mail). Every figure says where it comes from; what the server does not record is
 * reported as unknown with the reason, never as zero.
 */
import type { AuditService } from '../audit/service';
import { csvHeader, csvRow } from '../audit/csv';
import type { SmsRunView } from '../notify/sms-runs';
import type { ClientService } from '../clients/service';
import type { DirectoryService } from '../directory/service';
import type { EventService, EventView } from '../events/service';
import { toZonedIso } from '../events/zoned-time';
import type { MailService } from '../mail/service';
import type { ReceiptService } from '../push/receipts';
import type { ReportSnapshotModel, ReportSnapshotRecord, ThreatFigures } from './model';

export type TimelineKind = 'created' | 'cloned' | 'edited' | 'endNow' | 'started' | 'ended' | 'other';

export interface TimelineEntry {
  at: string;
  /** The same instant as the event zone's wall clock (ISO with offset). */
  atLocal: string;
  kind: TimelineKind;
  title: string;
  /** Who did it: an admin's email, or "scheduler". */
  by: string;
  detail: string;
}

export interface Unknown {
  metric: string;
  label: string;
  reason: string;
}

const AUDIT_LIMIT = 2000;
const FIELD_LABELS: Record<string, string> = {
  description: 'description',
  affectedGroupId: 'affected group',
  notes: 'notes',
  outlookContinuity: 'Outlook continuity',
  cloudPasswordReset: 'cloud password reset',
  expandDistributionLists: 'distribution list expansion',
  pauseInboundDelivery: 'pause inbound delivery',
  timeZone: 'time zone',
  start: 'start',
  end: 'end',
  appNotifications: 'app messages',
  sms: 'SMS',
};

function changedFields(after: unknown): string {
  if (!after || typeof after !== 'object') return '';
  const keys = Object.keys(after).filter((k) => k !== 'endedEarly' && k !== 'clonedFrom' && k !== 'requestedEnd');
  return keys.map((k) => FIELD_LABELS[k] ?? k).join(', ');
}

const THREATS_BASIS =
  'Messages judged on the tenant’s inbound mail path between the event’s start and its end (or now), every recipient included; a message whose copies were quarantined for some recipients and tagged for others counts in both.';

const minutesBetween = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 60_000));

/** Each threat count at its highest of the two (a sweep removes verdicts, so live counts only shrink). */
function higherThreats(live: ThreatFigures | null, kept: ThreatFigures | null): ThreatFigures | null {
  if (!live || !kept) return live ?? kept;
  const byVerdict: Partial<Record<string, number>> = { ...kept.byVerdict };
  for (const [verdict, n] of Object.entries(live.byVerdict)) byVerdict[verdict] = Math.max(n ?? 0, byVerdict[verdict] ?? 0);
  return {
    threats: Math.max(live.threats, kept.threats),
    quarantined: Math.max(live.quarantined, kept.quarantined),
    tagged: Math.max(live.tagged, kept.tagged),
    byVerdict,
    reportedByUsers: Math.max(live.reportedByUsers, kept.reportedByUsers),
  };
}

export function createReportService(deps: {
  events: EventService;
  audit: AuditService;
  directory: DirectoryService;
  clients: ClientService;
  mail: MailService;
  /** Banner receipts from the panes (users.bannerReceived). */
  receipts: Pick<ReceiptService, 'count'>;
  snapshots: ReportSnapshotModel;
  now?: () => Date;
  /** The event's SMS runs (server/notify sms-runs); absent: not reported. */
  smsRuns?: (tenantId: string, eventId: string) => Promise<SmsRunView[]>;
  /** The monitor detection an event was started for (server/monitor detectionOf); absent: always unknown. */
  detection?: (
    tenantId: string,
    source: { alertId: string } | { monitorId: string; eventId: string; startedAt: Date },
  ) => Promise<{ detectedAt: string; monitorId: string; monitorName: string | null; alertId: string | null } | null>;
  /** Threats judged on the mail path in a window (server/protection detections); absent: not reported. */
  threats?: (tenantId: string, window: { from: Date; to: Date }) => Promise<ThreatFigures>;
}) {
  const { events, audit, directory, clients, mail, receipts, snapshots } = deps;
  const now = deps.now ?? (() => new Date());

  async function auditOf(tenantId: string, eventId: string) {
    const entries = [];
    let cursor: string | undefined;
    do {
      const page = await audit.list(tenantId, { targetId: eventId, category: 'continuity' }, { cursor, limit: 500 });
      entries.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && entries.length < AUDIT_LIMIT);
    return entries;
  }

  async function timeline(tenantId: string, event: EventView): Promise<TimelineEntry[]> {
    const zone = event.timeZone;
    const entry = (at: string, kind: TimelineKind, title: string, by: string, detail = ''): TimelineEntry => ({
      at,
      atLocal: toZonedIso(new Date(at), zone),
      kind,
      title,
      by,
      detail,
    });
    const out: TimelineEntry[] = [];
    for (const a of await auditOf(tenantId, event.id)) {
      const by = a.actor.email ?? a.actor.id ?? a.actor.type;
      if (a.action === 'event.created') out.push(entry(a.at, 'created', 'Event created', by));
      else if (a.action === 'event.cloned') {
        const from = (a.after as { clonedFrom?: string } | null)?.clonedFrom;
        out.push(entry(a.at, 'cloned', 'Event created as a clone', by, from ? `Cloned from event ${from}` : ''));
      } else if (a.action === 'event.updated') {
        const fields = changedFields(a.after);
        out.push(entry(a.at, 'edited', 'Event edited', by, fields ? `Changed: ${fields}` : 'Saved without changes'));
      } else if (a.action === 'event.ended') out.push(entry(a.at, 'endNow', 'End Now', by, 'An administrator ended the event early'));
      else out.push(entry(a.at, 'other', a.action, by));
    }
    for (const t of await events.transitionsOf(tenantId, event.id)) {
      const late = t.lateMs > 60_000 ? ` (${Math.round(t.lateMs / 60_000)} min after its scheduled time)` : '';
      if (t.kind === 'start') {
        out.push(entry(t.firedAt, 'started', 'Event started', 'scheduler', `Users of the affected group switched to continuity${late}`));
      } else {
        const why = t.cause === 'endNow' ? 'ended by End Now' : t.cause === 'edit' ? 'its end was moved by an edit' : 'reached its scheduled end';
        out.push(entry(t.firedAt, 'ended', 'Event ended', 'scheduler', `The event ${why}${late}; users returned to normal mail`));
      }
    }
    return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || order(a.kind) - order(b.kind));
  }
  // At the same instant an admin's action comes before the transition it caused.
  const order = (k: TimelineKind) => ['created', 'cloned', 'edited', 'endNow', 'other', 'started', 'ended'].indexOf(k);

  /**
   * Time from detection to event start, when the event was created for a monitor alert: from the portal link
   * (its creator is "via portal link <alert id>") or by the monitor's auto-activation.
   */
  async function detectionToStart(tenantId: string, event: EventView) {
    const creator = event.createdBy ?? '';
    const portal = /^via portal link (\S+)$/.exec(creator);
    const auto = /^auto-activation of monitor (\S+)$/.exec(creator);
    if (!portal && !auto) return { known: null, reason: 'Not started from a monitor alert (the event was created by an administrator).' };
    const startedAt = new Date(event.startedAt ?? event.start);
    const found = deps.detection
      ? await deps.detection(tenantId, portal ? { alertId: portal[1] } : { monitorId: auto![1], eventId: event.id, startedAt })
      : null;
    if (!found) return { known: null, reason: 'Started from a monitor alert, but the detection time of that alert is not recorded.' };
    const minutes = Math.round(((startedAt.getTime() - Date.parse(found.detectedAt)) / 60_000) * 10) / 10;
    return {
      known: {
        minutes,
        detectedAt: found.detectedAt,
        detectedAtLocal: toZonedIso(new Date(found.detectedAt), event.timeZone),
        startedVia: portal ? ('portal' as const) : ('autoActivation' as const),
        monitorId: found.monitorId,
        monitorName: found.monitorName,
        alertId: found.alertId,
      },
      reason: null,
    };
  }

  /** The window the event covers its users in, as mail routing sees it (null while pending). */
  function windowOf(event: EventView, at: Date) {
    // The event covers its users from its start to its end (End Now moves the end); startedAt / endedAt are
    // when the scheduler fired (in the timeline).
    return event.status === 'pending' ? null : { from: new Date(event.start), to: event.status === 'expired' && event.end ? new Date(event.end) : at };
  }

  const snapshotId = (tenantId: string, eventId: string) => `${tenantId}:${eventId}`;
  const snapshotOf = (tenantId: string, eventId: string) => snapshots.findById(snapshotId(tenantId, eventId)).lean<ReportSnapshotRecord>();
  type LiveFigures = Awaited<ReturnType<typeof liveFigures>>;

  /** The figures counted from the mail and verdicts still kept. */
  async function liveFigures(tenantId: string, event: EventView, window: { from: Date; to: Date }, userIds: string[]) {
    const mailFigures = await mail.eventFigures(tenantId, event.id, window, userIds);
    const protection = deps.threats ? await deps.threats(tenantId, window) : null;
    return { mailFigures, protection };
  }

  /**
   * Counts that only grow while an event's window is fixed: keep the highest seen (retention sweeps shrink
   * them later). An ended event's are written down (settled); a running one's only when `save` says so.
   */
  async function kept(tenantId: string, event: EventView, before: ReportSnapshotRecord | null, live: LiveFigures, save: boolean) {
    const _id = snapshotId(tenantId, event.id);
    const best = {
      received: Math.max(live.mailFigures.received, before?.received ?? 0),
      sent: Math.max(live.mailFigures.sent, before?.sent ?? 0),
      protection: higherThreats(live.protection, before?.protection ?? null),
    };
    const settled = event.status === 'expired';
    const changed =
      !before ||
      best.received !== before.received ||
      best.sent !== before.sent ||
      JSON.stringify(best.protection) !== JSON.stringify(before.protection ?? null) ||
      (settled && !before.settled);
    const write = (save || settled) && changed;
    if (write) await snapshots.replaceOne({ _id, tenantId }, { _id, tenantId, eventId: event.id, ...best, settled, updatedAt: now() }, { upsert: true });
    return { ...best, written: write };
  }

  return {
    async report(tenantId: string, eventId: string) {
      const event = await events.get(tenantId, eventId);
      const generatedAt = now();
      const window = windowOf(event, generatedAt);
      const userIds = await directory.transitiveUserIds(tenantId, event.affectedGroupId);
      const census = await clients.summary(tenantId, userIds);
      const final = event.status === 'expired';
      const live = window ? await liveFigures(tenantId, event, window, userIds) : null;
      const figures = live?.mailFigures ?? { received: 0, sent: 0, held: 0, released: 0, stillHeld: 0 };
      const { received, sent, protection } = live
        ? await kept(tenantId, event, await snapshotOf(tenantId, event.id), live, false)
        : { ...figures, protection: null };
      const bannerCount = await receipts.count(tenantId, event.id);
      const bannerReceived = {
        count: bannerCount,
        percent: userIds.length ? Math.min(100, Math.round((bannerCount / userIds.length) * 1000) / 10) : null,
        basis:
          'Users whose Outlook task pane showed this event as active and acknowledged it (first time per user); best-effort, so a lost acknowledgement counts one user too few. Percent of the users covered.',
      };
      const unknowns: Unknown[] = [
        {
          metric: 'detectionToStart',
          label: 'Time from detection to event start',
          reason: 'No continuity monitor detection is linked to this event (events started by hand, or the monitor is not set up).',
        },
      ];
      // Detection → start: known for events started from a monitor alert; otherwise among the unknowns, saying why.
      const detection = await detectionToStart(tenantId, event);
      const detectionUnknown = unknowns.find((u) => u.metric === 'detectionToStart');
      if (detectionUnknown && detection.reason) detectionUnknown.reason = detection.reason;
      const reportedUnknowns = detection.known ? unknowns.filter((u) => u.metric !== 'detectionToStart') : unknowns;
      return {
        generatedAt: generatedAt.toISOString(),
        generatedAtLocal: toZonedIso(generatedAt, event.timeZone),
        /** False while the event is pending or current: the figures still change. */
        final,
        event: {
          id: event.id,
          description: event.description,
          status: event.status,
          timeZone: event.timeZone,
          affectedGroup: { id: event.affectedGroupId, displayName: event.affectedGroup.displayName },
          start: event.start,
          startLocal: event.startLocal,
          end: event.end,
          endLocal: event.endLocal,
          startedAt: event.startedAt,
          startedAtLocal: event.startedAt ? toZonedIso(new Date(event.startedAt), event.timeZone) : null,
          endedAt: event.endedAt,
          endedAtLocal: event.endedAt ? toZonedIso(new Date(event.endedAt), event.timeZone) : null,
          endedEarly: event.endedEarly,
          pauseInboundDelivery: event.pauseInboundDelivery,
          outlookContinuity: event.outlookContinuity,
          createdBy: event.createdBy,
        },
        durationMinutes: window ? minutesBetween(window.from, window.to) : null,
        timeline: await timeline(tenantId, event),
        users: { affected: userIds.length, basis: 'Members of the affected group (nested groups included) as the directory lists them now.', bannerReceived },
        clients: {
          reported: census.total,
          ready: census.readiness.ready,
          unknown: census.readiness.unknown,
          notCapable: census.readiness.notCapable,
          byKind: census.byKind,
        },
        mail: { received, sent, held: figures.held, released: figures.released, stillHeld: figures.stillHeld, pausedInbound: event.pauseInboundDelivery },
        detectionToStart: detection.known,
        /** Threats judged on the tenant's mail path during the event (null: pending, or protection not composed). */
        protection: protection && deps.threats ? { ...protection, basis: THREATS_BASIS } : null,
        /** The start and end SMS to a group: sent, failed, skipped with reasons (null: the event sends none). */
        sms: event.sms ? { group: event.sms.group, runs: (await deps.smsRuns?.(tenantId, event.id)) ?? [] } : null,
        unknowns: reportedUnknowns,
      };
    },

    /**
     * Before the retention sweep removes a tenant's mail and verdicts older than `cutoff`: every event that
     * started before it keeps its figures (an ended one once, settled; a running one as of now). Returns how
     * many were written down (a running event's unchanged figures are not).
     */
    async keepFiguresBefore(tenantId: string, cutoff: Date): Promise<number> {
      let written = 0;
      for (const event of await events.list(tenantId, true)) {
        if (event.status === 'pending' || Date.parse(event.start) >= cutoff.getTime()) continue;
        const before = await snapshotOf(tenantId, event.id);
        if (event.status === 'expired' && before?.settled) continue;
        const live = await liveFigures(tenantId, event, windowOf(event, now())!, await directory.transitiveUserIds(tenantId, event.affectedGroupId));
        if ((await kept(tenantId, event, before, live, true)).written) written += 1;
      }
      return written;
    },

    /** The report as CSV rows (formula-safe cells): section, time in the event's zone, item, value. */
    async *csv(tenantId: string, eventId: string): AsyncGenerator<string> {
      const r = await this.report(tenantId, eventId);
      const zone = r.event.timeZone;
      yield csvHeader(['section', `time (${zone})`, 'item', 'value']);
      const fact = (item: string, value: unknown) => csvRow(['event', '', item, value]);
      yield fact('description', r.event.description);
      yield fact('status', r.event.status + (r.event.endedEarly ? ' (ended early)' : ''));
      yield fact('time zone', zone);
      yield fact('affected group', r.event.affectedGroup.displayName ?? r.event.affectedGroup.id);
      yield fact('scheduled start', r.event.startLocal);
      yield fact('scheduled end', r.event.endLocal ?? 'eternal (until ended)');
      yield fact('started', r.event.startedAtLocal ?? '');
      yield fact('ended', r.event.endedAtLocal ?? '');
      yield fact('duration (minutes)', r.durationMinutes ?? '');
      yield fact('report generated', r.generatedAtLocal);
      yield fact('final', r.final ? 'yes' : 'no: the event has not ended, figures still change');
      for (const t of r.timeline) yield csvRow(['timeline', t.atLocal, t.title, [t.by, t.detail].filter(Boolean).join(': ')]);
      const figure = (item: string, value: unknown) => csvRow(['figures', '', item, value]);
      yield figure('affected users', r.users.affected);
      yield figure('users whose pane received the start banner', r.users.bannerReceived.count);
      yield figure('users whose pane received the start banner (%)', r.users.bannerReceived.percent ?? '');
      yield figure('clients reported (census)', r.clients.reported);
      yield figure('clients ready for continuity', r.clients.ready);
      yield figure('clients unknown', r.clients.unknown);
      yield figure('clients that cannot take part', r.clients.notCapable);
      yield figure('mail received in continuity mailboxes', r.mail.received);
      yield figure('messages sent through Lifeboat', r.mail.sent);
      yield figure('inbound mail held', r.mail.pausedInbound ? r.mail.held : 'not paused');
      yield figure('held mail released', r.mail.pausedInbound ? r.mail.released : 'not paused');
      yield figure('held mail still held', r.mail.pausedInbound ? r.mail.stillHeld : 'not paused');
      if (r.protection) {
        yield figure('threats judged on the mail path', r.protection.threats);
        yield figure('threats quarantined', r.protection.quarantined);
        yield figure('threats delivered tagged', r.protection.tagged);
        for (const [verdict, n] of Object.entries(r.protection.byVerdict)) yield figure(`threats: ${verdict}`, n ?? 0);
        yield figure('messages users reported as phishing', r.protection.reportedByUsers);
      }
      if (r.detectionToStart) yield figure('time from detection to event start (minutes)', r.detectionToStart.minutes);
      for (const run of r.sms?.runs ?? []) {
        const item = (what: string) => `${run.kind} SMS ${what}`;
        yield csvRow(['sms', run.ranAt ? toZonedIso(new Date(run.ranAt), zone) : '', item('sent'), run.ranAt ? run.sent : 'not run yet']);
        if (run.failed) yield csvRow(['sms', '', item('failed'), run.failed]);
        for (const skip of run.skipped) yield csvRow(['sms', '', item(`skipped: ${skip.reason}`), skip.count]);
      }
      for (const u of r.unknowns) yield csvRow(['unknown', '', u.label, u.reason]);
    },
  };
}
export type ReportService = ReturnType<typeof createReportService>;
