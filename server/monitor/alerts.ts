/**
 * How the monitor reaches admins out of band. The monitor only knows this small interface; the
 * notification capability (SMS and email channels) implements it. Until one is given, alerts are
 * logged and recorded as not sent, so nothing pretends to have reached a phone.
 */
import type { Logger } from 'pino';

export interface AlertMessage {
  tenantId: string;
  monitorId: string;
  monitorName: string;
  alertId: string;
  kind: 'alert' | 'recovered';
  /** Short text for SMS (a link included). */
  sms: string;
  subject: string;
  text: string;
  portalUrl: string;
  recipients: { sms: string[]; email: string[] };
}

export interface AlertResult {
  channel: 'sms' | 'email';
  recipient: string;
  ok: boolean;
  error: string | null;
}

export interface AlertSender {
  send(message: AlertMessage): Promise<AlertResult[]>;
}

/** No channels configured: every recipient is reported as not reached, and a warning is logged. */
export function unconfiguredAlertSender(logger: Logger): AlertSender {
  return {
    async send(message) {
      logger.warn({ tenant: message.tenantId, monitor: message.monitorId, alert: message.alertId, kind: message.kind }, 'monitor alert not sent: no notification channels are configured');
      return [
        ...message.recipients.sms.map((recipient) => ({ channel: 'sms' as const, recipient, ok: false, error: 'no SMS channel configured' })),
        ...message.recipients.email.map((recipient) => ({ channel: 'email' as const, recipient, ok: false, error: 'no email channel configured' })),
      ];
    },
  };
}
