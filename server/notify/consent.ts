/**
 * SMS consent: a user receives SMS only after opting in. Every change is recorded with its time and
 * source ('user' from the pane or user API, 'admin', 'sms' for a STOP/START reply) and audited.
 */
import type { AuditContext } from '../audit/context';
import type { AuditActor } from '../audit/model';
import type { AuditService } from '../audit/service';
import type { DirectoryService } from '../directory/service';
import { notFound } from '../http/problem';
import type { NotifyModels, SmsConsentRecord } from './model';
import { phoneOf, samePhone } from './settings';

export type ConsentSource = 'user' | 'admin' | 'sms';

/** Carrier-standard opt-out and opt-in keywords (the whole reply, any case). */
export const STOP_WORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'];
export const START_WORDS = ['START', 'UNSTOP', 'YES', 'OPTIN'];

const key = (tenantId: string, userId: string) => `${tenantId}:${userId}`;

export function createConsentService(deps: {
  models: NotifyModels;
  directory: DirectoryService;
  audit: AuditService;
  phoneAttribute: (tenantId: string) => Promise<string>;
  now: () => Date;
}) {
  const { models, directory, audit, now } = deps;

  const view = (record: SmsConsentRecord | null, phone: string | null, phoneAttribute: string) => ({
    optedIn: record?.optedIn ?? false,
    at: record?.at.toISOString() ?? null,
    source: record?.source ?? null,
    phone,
    phoneAttribute,
  });

  async function change(
    tenantId: string,
    userId: string,
    optedIn: boolean,
    source: ConsentSource,
    actor: AuditActor,
    context: AuditContext,
    phone: string | null,
  ) {
    const at = now();
    const existing = await models.consents.findById(key(tenantId, userId)).lean<SmsConsentRecord>();
    const entry = { optedIn, at, source, by: actor.email ?? actor.id };
    await models.consents.updateOne(
      { _id: key(tenantId, userId) },
      { $set: { tenantId, userId, optedIn, phone, at, source, by: entry.by }, $push: { history: entry } },
      { upsert: true },
    );
    if (existing?.optedIn !== optedIn) {
      await audit.record({
        tenantId,
        category: 'notifications',
        action: optedIn ? 'sms.consent.optedIn' : 'sms.consent.optedOut',
        actor,
        target: { type: 'user', id: userId, label: phone },
        before: { optedIn: existing?.optedIn ?? false },
        after: { optedIn, source },
        ...context,
      });
    }
  }

  async function userAndPhone(tenantId: string, userId: string) {
    const user = await directory.getUser(tenantId, userId);
    if (!user) throw notFound('user');
    const attribute = await deps.phoneAttribute(tenantId);
    return { user, attribute, phone: phoneOf(user, attribute) };
  }

  return {
    async get(tenantId: string, userId: string) {
      const { attribute, phone } = await userAndPhone(tenantId, userId);
      return view(await models.consents.findById(key(tenantId, userId)).lean<SmsConsentRecord>(), phone, attribute);
    },

    async set(tenantId: string, userId: string, optedIn: boolean, source: ConsentSource, actor: AuditActor, context: AuditContext) {
      const { attribute, phone } = await userAndPhone(tenantId, userId);
      await change(tenantId, userId, optedIn, source, actor, context, phone);
      return view(await models.consents.findById(key(tenantId, userId)).lean<SmsConsentRecord>(), phone, attribute);
    },

    /** Directory users (search, first 50) with their number and consent, for the admin page. */
    async list(tenantId: string, search?: string) {
      const attribute = await deps.phoneAttribute(tenantId);
      const users = await directory.searchUsers(tenantId, search);
      const records = await models.consents.find({ tenantId, userId: { $in: users.map((u) => u.id) } }).lean<SmsConsentRecord[]>();
      const byUser = new Map(records.map((r) => [r.userId, r]));
      const rows = [];
      for (const u of users) {
        const phone = phoneOf(await directory.getUser(tenantId, u.id), attribute);
        rows.push({ userId: u.id, displayName: u.displayName, mail: u.mail, ...view(byUser.get(u.id) ?? null, phone, attribute) });
      }
      return rows;
    },

    /** Opted-in users among these ids, with the number they receive SMS at now (no number: left out). */
    async optedInRecipients(tenantId: string, userIds: string[]): Promise<{ userId: string; phone: string }[]> {
      const attribute = await deps.phoneAttribute(tenantId);
      const wanted = new Set(userIds);
      const opted = (await models.consents.find({ tenantId, optedIn: true }).lean<SmsConsentRecord[]>()).filter((r) => wanted.has(r.userId));
      const out: { userId: string; phone: string }[] = [];
      for (const r of opted.sort((a, b) => a.userId.localeCompare(b.userId))) {
        const phone = phoneOf(await directory.getUser(tenantId, r.userId), attribute);
        if (phone) out.push({ userId: r.userId, phone });
      }
      return out;
    },

    /** How many of these users have opted in (with a number on file or not). */
    async optedInCount(tenantId: string, userIds: string[]): Promise<number> {
      const wanted = new Set(userIds);
      return (await models.consents.find({ tenantId, optedIn: true }).lean<SmsConsentRecord[]>()).filter((r) => wanted.has(r.userId)).length;
    },

    async isOptedIn(tenantId: string, userId: string): Promise<boolean> {
      return Boolean((await models.consents.findById(key(tenantId, userId)).lean<SmsConsentRecord>())?.optedIn);
    },

    /**
     * A reply from a phone (already verified as coming from the tenant's gateway): STOP opts out every
     * user of the tenant with that number (now, or when they opted in); START opts a number that had
     * opted out back in. Anything else is ignored. Returns what was done.
     */
    async inbound(tenantId: string, from: string, text: string, context: AuditContext): Promise<{ action: 'optedOut' | 'optedIn' | 'ignored'; users: number }> {
      const word = text.trim().toUpperCase();
      const stop = STOP_WORDS.includes(word);
      const start = START_WORDS.includes(word);
      if (!stop && !start) return { action: 'ignored', users: 0 };
      const attribute = await deps.phoneAttribute(tenantId);
      const records = await models.consents.find({ tenantId, optedIn: stop }).lean<SmsConsentRecord[]>();
      let users = 0;
      for (const r of records) {
        const current = phoneOf(await directory.getUser(tenantId, r.userId), attribute);
        if (!samePhone(from, current) && !samePhone(from, r.phone)) continue;
        await change(tenantId, r.userId, start, 'sms', { type: 'anonymous', id: null, email: null }, context, current ?? r.phone);
        users++;
      }
      return { action: stop ? 'optedOut' : 'optedIn', users };
    },
  };
}
export type ConsentService = ReturnType<typeof createConsentService>;
