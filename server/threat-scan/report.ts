/**
 * The Threat Scan report: per-verdict counts, the threats (recipient, sender, subject, received,
 * verdict, evidence), the mailboxes scanned and skipped with reasons; as JSON, as formula-safe CSV
 * (audit/csv.ts) and as the email the tenant's full administrators get when a run finishes or is
 * ended (through the notification channel, once per run and recipient).
 */
import type { Logger } from 'pino';
import type { AdminService } from '../auth/admins';
import { csvRow } from '../audit/csv';
import type { MailboxRecord, MessageRecord, ScanRecord, ThreatScanModels } from './model';
import { verdictCounts } from './progress';

export interface ThreatRow {
  id: string;
  recipient: string;
  sender: string;
  subject: string;
  receivedAt: string | null;
  verdict: string;
  evidence: Record<string, unknown> | null;
  location: string;
}

export interface ScanReport {
  scanId: string;
  state: string;
  days: number;
  since: string;
  counts: Record<string, number>;
  threats: ThreatRow[];
  mailboxes: { scanned: { address: string; messages: number }[]; skipped: { address: string; reason: string }[]; notScanned: string[] };
}

const toThreat = (m: MessageRecord): ThreatRow => ({
  id: m.messageId,
  recipient: m.recipient,
  sender: m.sender,
  subject: m.subject,
  receivedAt: m.receivedAt?.toISOString() ?? null,
  verdict: m.verdict ?? 'unscanned',
  evidence: m.evidence,
  location: m.location,
});

export async function buildReport(models: ThreatScanModels, scan: ScanRecord): Promise<ScanReport> {
  const threats = await models.messages
    .find({ scanId: scan._id, verdict: { $ne: 'clean' } })
    .sort({ receivedAt: -1 })
    .lean<MessageRecord[]>();
  const items = await models.mailboxes.find({ scanId: scan._id }).sort({ address: 1 }).lean<MailboxRecord[]>();
  return {
    scanId: scan._id,
    state: scan.state,
    days: scan.days,
    since: scan.since.toISOString(),
    counts: await verdictCounts(models, scan._id),
    threats: threats.map(toThreat),
    mailboxes: {
      scanned: items.filter((i) => i.state === 'done').map((i) => ({ address: i.address, messages: i.scanned })),
      skipped: items.filter((i) => i.state === 'skipped').map((i) => ({ address: i.address, reason: i.reason ?? '' })),
      notScanned: items.filter((i) => i.state === 'pending').map((i) => i.address),
    },
  };
}

export const REPORT_CSV_COLUMNS = ['received', 'recipient', 'sender', 'subject', 'verdict', 'evidence', 'location', 'messageId'];

export function reportCsv(report: ScanReport): string {
  let out = csvRow(REPORT_CSV_COLUMNS);
  for (const t of report.threats)
    out += csvRow([t.receivedAt ?? '', t.recipient, t.sender, t.subject, t.verdict, JSON.stringify(t.evidence ?? {}), t.location, t.id]);
  return out;
}

export function reportText(report: ScanReport, publicUrl: string): { subject: string; text: string } {
  const threats = report.threats.filter((t) => t.verdict !== 'unscanned');
  const lines = [
    `Lifeboat Threat Scan ${report.state === 'ended' ? 'ended' : 'finished'}: mail received since ${report.since}.`,
    '',
    `Verdicts: ${
      Object.entries(report.counts)
        .map(([v, n]) => `${v} ${n}`)
        .join(', ') || 'no messages'
    }.`,
    `Mailboxes scanned: ${report.mailboxes.scanned.length}; skipped: ${report.mailboxes.skipped.length}; not scanned (ended): ${report.mailboxes.notScanned.length}.`,
    ...report.mailboxes.skipped.map((s) => `  skipped ${s.address}: ${s.reason}`),
    '',
    `Threats found: ${threats.length}.`,
    ...threats.slice(0, 50).map((t) => `  ${t.verdict.toUpperCase()} to ${t.recipient} from ${t.sender} "${t.subject}" (${t.receivedAt ?? 'unknown time'})`),
    ...(threats.length > 50 ? [`  … and ${threats.length - 50} more in the full report.`] : []),
    '',
    `Review and remove threats in the admin page: ${publicUrl.replace(/\/+$/, '')}/admin/`,
  ];
  return { subject: `Threat Scan ${report.state === 'ended' ? 'ended' : 'finished'}: ${threats.length} threat(s) found`, text: lines.join('\n') };
}

/** The notify capability's send API, as far as the scan needs it. */
export interface NotifyEmail {
  send(req: { tenantId: string; channel: 'email'; to: string; subject?: string; text: string; purpose: string; idempotencyKey?: string }): Promise<{
    status: 'sent' | 'failed' | 'duplicate';
    reply: string;
  }>;
}

/** Emails a message to every full administrator of the tenant, each once per key. */
export async function emailAdmins(
  deps: { admins: AdminService; notify: NotifyEmail; logger: Logger },
  tenantId: string,
  message: { subject: string; text: string; purpose: string; key: string },
): Promise<void> {
  const recipients = (await deps.admins.list(tenantId)).filter((a) => a.role === 'fullAdministrator').map((a) => a.email);
  for (const to of recipients) {
    const result = await deps.notify
      .send({ tenantId, channel: 'email', to, subject: message.subject, text: message.text, purpose: message.purpose, idempotencyKey: `${message.key}:${to}` })
      .catch((err: Error) => ({ status: 'failed' as const, reply: err.message }));
    if (result.status === 'failed') deps.logger.warn({ tenantId, to, reply: result.reply, purpose: message.purpose }, 'threat scan: an admin email failed');
  }
}
