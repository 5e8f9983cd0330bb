/**
 * What an event's SMS did and will do, for admins: each run's outcome (sent, failed, skipped with
 * reasons) read back from the run record and the per-recipient claims, and the warning the event
 * form shows before saving (channel missing, N of M members opted in with a number). Read-only.
 */
import type { DirectoryService } from '../directory/service';
import type { ConsentService } from './consent';
import type { NotifyModels, SendClaimRecord } from './model';
import type { SmsKind } from './event-sms';
import type { NotifyCore } from './service';

export interface SmsSkip {
  reason: 'no message set' | 'not opted in' | 'opted in without a phone number' | 'SMS channel not configured' | 'send failed';
  count: number;
}

export interface SmsRunView {
  kind: SmsKind;
  /** When every recipient had been claimed (null: not run yet). */
  ranAt: string | null;
  groupMembers: number;
  recipients: number;
  sent: number;
  failed: number;
  pending: number;
  skipped: SmsSkip[];
}

export interface SmsAudience {
  channelConfigured: boolean;
  groupMembers: number;
  optedInWithNumber: number;
  warnings: string[];
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createSmsRuns(deps: { core: Pick<NotifyCore, 'loadSettings'>; consents: ConsentService; directory: DirectoryService; models: NotifyModels }) {
  const { core, consents, directory, models } = deps;

  async function channelConfigured(tenantId: string): Promise<boolean> {
    return Boolean((await core.loadSettings(tenantId))?.sms?.enabled);
  }

  return {
    channelConfigured,

    /** Who a group's SMS would reach now, and what the form should warn about. */
    async audience(tenantId: string, groupId: string): Promise<SmsAudience> {
      const members = await directory.transitiveUserIds(tenantId, groupId);
      const reachable = await consents.optedInRecipients(tenantId, members);
      const configured = await channelConfigured(tenantId);
      const warnings: string[] = [];
      if (!configured) warnings.push('The SMS channel is not configured (Notifications › SMS): nothing will be sent.');
      if (reachable.length === 0)
        warnings.push(`None of the ${members.length} member(s) of this group has opted in with a phone number: nobody will get the SMS.`);
      else if (reachable.length < members.length)
        warnings.push(`${reachable.length} of ${members.length} member(s) opted in with a phone number; only they get the SMS.`);
      return { channelConfigured: configured, groupMembers: members.length, optedInWithNumber: reachable.length, warnings };
    },

    /** The start and end runs of one event, as far as they went. */
    async runsOf(tenantId: string, eventId: string): Promise<SmsRunView[]> {
      const out: SmsRunView[] = [];
      for (const kind of ['start', 'end'] as const) {
        const run = await models.eventRuns.findById(`${eventId}:${kind}`).lean();
        const claims = await models.claims
          .find({ tenantId, key: { $regex: `^${escapeRegex(`${eventId}:${kind}:`)}` } })
          .select({ status: 1 })
          .lean<Pick<SendClaimRecord, 'status'>[]>();
        const count = (s: SendClaimRecord['status']) => claims.filter((c) => c.status === s).length;
        const skipped: SmsSkip[] = [];
        const add = (reason: SmsSkip['reason'], n: number) => n > 0 && skipped.push({ reason, count: n });
        if (run) {
          if (run.messageEmpty) add('no message set', run.groupMembers ?? 0);
          else {
            add('not opted in', run.notOptedIn ?? 0);
            add('opted in without a phone number', run.withoutNumber ?? 0);
            if (run.channelConfigured === false) add('SMS channel not configured', run.recipients);
            else add('send failed', count('failed'));
          }
        }
        out.push({
          kind,
          ranAt: run ? run.finishedAt.toISOString() : null,
          groupMembers: run?.groupMembers ?? 0,
          recipients: run?.recipients ?? 0,
          sent: count('sent'),
          failed: count('failed'),
          pending: count('pending'),
          skipped,
        });
      }
      return out;
    },
  };
}
export type SmsRuns = ReturnType<typeof createSmsRuns>;
