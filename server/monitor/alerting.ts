/**
 * Sends a monitor's alert or recovery notice: a signed portal link, the SMS and email texts, the send
 * through the AlertSender (./alerts.ts: notify's channels, or a test's), and the alert record with each
 * recipient's result. Never decides whether to alert (the detector does).
 */
import { PORTAL_LINK_HOURS, signPortalToken } from '../portal/token';
import type { AlertMessage, AlertResult, AlertSender } from './alerts';
import { newId, type MonitorContext } from './context';
import type { AlertRecord, MonitorRecord } from './model';

export function createAlerting(ctx: MonitorContext, deps: { alerts: AlertSender; secret: string; publicUrl: string }) {
  const { models, now } = ctx;
  let sender = deps.alerts;

  function portalUrl(alert: Pick<AlertRecord, '_id' | 'tenantId' | 'monitorId' | 'expiresAt'>): string {
    const token = signPortalToken(deps.secret, { tenantId: alert.tenantId, monitorId: alert.monitorId, alertId: alert._id, expiresAt: alert.expiresAt });
    return `${deps.publicUrl.replace(/\/+$/, '')}/portal/${token}`;
  }

  return {
    /** The notification channels (the notify capability plugs in here). */
    useSender(next: AlertSender): void {
      sender = next;
    },

    async send(m: MonitorRecord, kind: 'alert' | 'recovered', detail: string, detectedAt: Date | null): Promise<AlertRecord> {
      const at = now();
      const alert: AlertRecord = {
        _id: newId('al'),
        tenantId: m.tenantId,
        monitorId: m._id,
        kind,
        at,
        expiresAt: new Date(at.getTime() + PORTAL_LINK_HOURS * 3600_000),
        detectedAt,
        results: [],
      };
      const url = portalUrl(alert);
      const message: AlertMessage = {
        tenantId: m.tenantId,
        monitorId: m._id,
        monitorName: m.name,
        alertId: alert._id,
        kind,
        portalUrl: url,
        recipients: m.alertRecipients,
        sms:
          kind === 'alert'
            ? `Lifeboat: mail flow problem detected by monitor "${m.name}". Act (24 h link): ${url}`
            : `Lifeboat: monitor "${m.name}" recovered; mail flows again. ${url}`,
        subject: kind === 'alert' ? `[Lifeboat] Mail flow problem detected: ${m.name}` : `[Lifeboat] Recovered: ${m.name}`,
        text:
          kind === 'alert'
            ? `The continuity monitor "${m.name}" detected a mail flow problem.\n\n${detail}\n\nStart, extend or end a continuity event, or suppress these alerts, from the continuity portal (link valid ${PORTAL_LINK_HOURS} hours):\n${url}\n\nAlert id: ${alert._id}\n`
            : `The continuity monitor "${m.name}" recovered: its failure counter is back below the threshold.\n\n${detail}\n\nContinuity portal (link valid ${PORTAL_LINK_HOURS} hours):\n${url}\n\nAlert id: ${alert._id}\n`,
      };
      let results: AlertResult[];
      try {
        results = await sender.send(message);
      } catch (err) {
        results = [{ channel: 'email', recipient: '*', ok: false, error: (err as Error).message }];
      }
      alert.results = results.map((r) => ({ channel: r.channel, recipient: r.recipient, ok: r.ok, error: r.error ?? null }));
      await models.alerts.create(alert);
      return alert;
    },

    async get(tenantId: string, alertId: string): Promise<AlertRecord | null> {
      const a = await models.alerts.findById(alertId).lean<AlertRecord>();
      return a && a.tenantId === tenantId ? a : null;
    },
  };
}
