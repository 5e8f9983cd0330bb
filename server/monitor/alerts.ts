/**
 * How the monitor reaches admins out of band. The monitor only knows this small interface; the
 * notification capability (SMS and email channels, server/notify) implements it; tests may pass
 * another (services.ts `monitor.alerts`).
 */
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

/** The notify capability's send API, as far as the monitor needs it. */
export interface NotifySend {
  send(req: {
    tenantId: string;
    channel: 'sms' | 'email';
    to: string;
    subject?: string;
    text: string;
    purpose: string;
    idempotencyKey?: string;
  }): Promise<{ status: 'sent' | 'failed' | 'duplicate'; reply: string }>;
}

/**
 * Alerts through the tenant's notification channels (SMS gateway, email relay): every recipient
 * at once, each send at most once per alert (idempotency key), retries and the send log are notify's.
 */
export function notifyAlertSender(notify: NotifySend): AlertSender {
  return {
    async send(message) {
      const purpose = message.kind === 'alert' ? 'monitor.alert' : 'monitor.recovered';
      const one = async (channel: 'sms' | 'email', to: string): Promise<AlertResult> => {
        try {
          const r = await notify.send({
            tenantId: message.tenantId,
            channel,
            to,
            subject: channel === 'email' ? message.subject : undefined,
            text: channel === 'sms' ? message.sms : message.text,
            purpose,
            idempotencyKey: `monitor:${message.alertId}:${channel}:${to}`,
          });
          return { channel, recipient: to, ok: r.status !== 'failed', error: r.status === 'failed' ? r.reply : null };
        } catch (err) {
          return { channel, recipient: to, ok: false, error: (err as Error).message };
        }
      };
      return Promise.all([...message.recipients.sms.map((to) => one('sms', to)), ...message.recipients.email.map((to) => one('email', to))]);
    },
  };
}
