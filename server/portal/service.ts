/**
 * The continuity portal behind an alert's signed link: what was detected and four actions (start an
 * event, extend or end the current one, suppress alerts). A link is good for its tenant, monitor
 * and alert only, for 24 hours; every action is audited as "via portal link <alert id>".
 */
import type { AuditContext } from '../audit/context';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import type { DirectoryService } from '../directory/service';
import type { EventService } from '../events/service';
import { HttpProblem, conflict, unprocessable } from '../http/problem';
import type { MonitorRecord, AlertRecord } from '../monitor/model';
import type { MonitorService } from '../monitor/service';
import { checkFormToken, formToken, verifyPortalToken, type PortalClaims } from './token';

export type PortalAction = 'start' | 'extend' | 'end' | 'suppress' | 'cancel-auto';
export const PORTAL_ACTIONS: PortalAction[] = ['start', 'extend', 'end', 'suppress', 'cancel-auto'];

export type Resolved =
  { ok: true; claims: PortalClaims; monitor: MonitorRecord; alert: AlertRecord } | { ok: false; status: number; title: string; message: string };

const INVALID = {
  ok: false as const,
  status: 404,
  title: 'This link is not valid',
  message: 'The link is incomplete or was changed. Open the link from the alert exactly as it was sent, or sign in to the Lifeboat admin page.',
};

export function createPortalService(deps: {
  monitor: MonitorService;
  events: EventService;
  directory: DirectoryService;
  audit: AuditService;
  secret: string;
  now?: () => Date;
}) {
  const { monitor, events, directory, audit, secret } = deps;
  const now = deps.now ?? (() => new Date());

  const identity = (r: Extract<Resolved, { ok: true }>): AdminIdentity => ({
    tenantId: r.monitor.tenantId,
    adminId: `portal:${r.alert._id}`,
    email: `via portal link ${r.alert._id}`,
    displayName: 'Continuity portal',
    role: 'basicAdministrator',
  });

  async function resolve(token: string): Promise<Resolved> {
    const checked = verifyPortalToken(secret, token, now());
    if (!checked.ok) {
      if (checked.reason === 'expired')
        return {
          ok: false,
          status: 410,
          title: 'This link has expired',
          message: 'Portal links are valid for 24 hours after the alert. Use the link of a newer alert, or sign in to the Lifeboat admin page.',
        };
      return INVALID;
    }
    const { claims } = checked;
    const alert = await monitor.alert(claims.tenantId, claims.alertId);
    let record: MonitorRecord | null;
    try {
      record = await monitor.record(claims.tenantId, claims.monitorId);
    } catch {
      record = null;
    }
    if (!alert || !record || alert.monitorId !== record._id || alert.tenantId !== record.tenantId) {
      return {
        ok: false,
        status: 404,
        title: 'This link does not belong to an alert here',
        message: 'The monitor or alert it names does not exist in this organisation (it may have been deleted). Sign in to the Lifeboat admin page instead.',
      };
    }
    return { ok: true, claims, monitor: record, alert };
  }

  return {
    resolve,

    async page(r: Extract<Resolved, { ok: true }>, token: string) {
      const [state, log, current, group] = await Promise.all([
        monitor.get(r.monitor.tenantId, r.monitor._id),
        monitor.log(r.monitor.tenantId, r.monitor._id, {}, { limit: 12 }),
        events.current(r.monitor.tenantId),
        r.monitor.defaultGroupId ? directory.getGroup(r.monitor.tenantId, r.monitor.defaultGroupId) : null,
      ]);
      return { monitor: state, alert: r.alert, log: log.items, current, defaultGroup: group, csrf: formToken(secret, token, now()) };
    },

    /** Runs one action; throws HttpProblem for bad input (shown on the page). */
    async act(r: Extract<Resolved, { ok: true }>, token: string, action: string, form: Record<string, unknown>, context: AuditContext): Promise<string> {
      if (!checkFormToken(secret, token, form.csrf, now()))
        throw new HttpProblem(403, 'Forbidden', 'The form has expired or did not come from this page. Reload the page and try again.');
      if (!PORTAL_ACTIONS.includes(action as PortalAction)) throw new HttpProblem(404, 'Not Found', `No portal action "${action}".`);
      const by = identity(r);
      const via = `via portal link ${r.alert._id}`;
      const m = r.monitor;
      const hours = (field: string, max: number) => {
        const value = Number(String(form[field] ?? '').trim());
        if (!Number.isFinite(value) || value <= 0 || value > max)
          throw unprocessable([{ path: field, message: `must be a number of hours above 0 and at most ${max}` }]);
        return value;
      };
      const eventId = () => {
        const id = String(form.eventId ?? '');
        if (!/^[0-9a-f]{24}$/.test(id)) throw unprocessable([{ path: 'eventId', message: 'choose an event' }]);
        return id;
      };
      const record = (name: string, after: Record<string, unknown>) =>
        audit.record({
          tenantId: m.tenantId,
          category: 'monitor',
          action: `portal.${name}`,
          actor: adminActor(by),
          target: { type: 'monitor', id: m._id, label: m.name },
          after: { via, ...after },
          ...context,
        });

      const outcome = await run();
      await monitor.answered(m.tenantId, m._id);
      return outcome;

      async function run(): Promise<string> {
        switch (action as PortalAction) {
          case 'start': {
            const groupId = String(form.groupId ?? '').trim() || m.defaultGroupId || '';
            if (!groupId) throw unprocessable([{ path: 'groupId', message: 'choose the affected group' }]);
            const group =
              (await directory.getGroup(m.tenantId, groupId)) ??
              (await directory.searchGroups(m.tenantId, groupId)).find((g) => g.mail?.toLowerCase() === groupId.toLowerCase()) ??
              null;
            if (!group) throw unprocessable([{ path: 'groupId', message: `no group "${groupId}" in the directory` }]);
            const event = await monitor.startEventFor(m, by, { groupId: group.id, durationHours: hours('hours', 24 * 14) }, context);
            await monitor.logDecision(m, 'event started', r.alert._id);
            await record('eventStarted', { eventId: event.id, groupId: group.id, end: event.end });
            return 'started';
          }
          case 'extend': {
            const id = eventId();
            const event = await events.get(m.tenantId, id);
            if (event.status !== 'current') throw conflict('Only a current event can be extended.');
            if (!event.end) throw conflict('This event has no end; there is nothing to extend.');
            const base = Math.max(new Date(event.end).getTime(), now().getTime());
            const end = new Date(base + hours('hours', 24 * 14) * 3600_000).toISOString();
            await events.update(by, id, { end }, context);
            await record('eventExtended', { eventId: id, end });
            return 'extended';
          }
          case 'end': {
            const id = eventId();
            await events.endNow(by, id, context);
            await record('eventEnded', { eventId: id });
            return 'ended';
          }
          case 'suppress': {
            const view = await monitor.suppress({ identity: by, via }, m._id, { hours: hours('hours', 24 * 7) }, context);
            return `suppressed:${view.state.suppressedUntil}`;
          }
          case 'cancel-auto': {
            await monitor.cancelAutoActivation({ identity: by, via }, m._id, context);
            return 'cancelled';
          }
        }
        return 'done';
      }
    },
  };
}
export type PortalService = ReturnType<typeof createPortalService>;
