/**
 * One mailbox of a Threat Scan, from where it stopped: list the messages received in the window
 * (paging by @odata.nextLink, the link persisted after each page so a retry or a restart goes on
 * from there), fetch each message's MIME and judge it once. Every Graph request goes through the
 * per-mailbox limiter; Graph's throttling (429/503 + Retry-After) is waited out by the SDK's retry
 * handler and counted; what still fails is the caller's to back off or skip.
 */
import { GraphRequestError, type GraphApi } from '../directory/graph/client';
import { insertIgnoringDuplicates, isDuplicateOnly } from '../db/claims';
import { THREAT_VERDICTS, type JudgeContext, type Judgement, type MessageJudge } from './judge';
import type { MailboxLimiter } from './limiter';
import type { MailboxRecord, MessageRecord, ThreatScanModels } from './model';

/** Graph returns ids that survive a move (so remediation finds a message the user filed away). */
export const IMMUTABLE_IDS = { Prefer: 'IdType="ImmutableId"' };
const SELECT = 'id,subject,from,receivedDateTime,parentFolderId,internetMessageId';

interface ListedMessage {
  id: string;
  subject?: string;
  from?: { emailAddress?: { address?: string; name?: string } };
  receivedDateTime?: string;
  parentFolderId?: string;
}

export interface MailboxScanDeps {
  models: ThreatScanModels;
  judge: MessageJudge;
  limiter: MailboxLimiter;
  /** Judgements in flight in this process (key `judge`): more only queue up in the engines and the database. */
  judgeSlots: MailboxLimiter;
  now: () => Date;
  pageSize: number;
}

export function firstPage(userId: string, since: Date, pageSize: number): string {
  const filter = encodeURIComponent(`receivedDateTime ge ${since.toISOString()}`);
  return `/users/${encodeURIComponent(userId)}/messages?$filter=${filter}&$top=${pageSize}&$select=${SELECT}`;
}

/**
 * Scans until the mailbox is done or `stopped()` says the scan was ended. Resolves 'done' or 'stopped';
 * throws a GraphRequestError the caller classifies. `onPage` is told after each page is recorded.
 */
export async function scanMailbox(
  deps: MailboxScanDeps,
  api: GraphApi,
  item: MailboxRecord,
  since: Date,
  stopped: () => Promise<boolean>,
  onPage: (scanned: number) => Promise<void>,
): Promise<'done' | 'stopped'> {
  const { models, limiter } = deps;
  let link: string | null = item.nextLink ?? firstPage(item.userId, since, deps.pageSize);
  while (link) {
    if (await stopped()) return 'stopped';
    const current: string = link;
    const page = await limiter.run(item.userId, () => api.get<{ value?: ListedMessage[]; '@odata.nextLink'?: string }>(current, { headers: IMMUTABLE_IDS }));
    const listed = page.value ?? [];
    const owned = await claimPage(
      models,
      listed.map((m) => `${item.scanId}:${m.id}`),
      deps.now(),
    );
    const records: MessageRecord[] = [];
    const judged: { context: JudgeContext; judgement: Judgement }[] = [];
    const results = await Promise.allSettled(
      listed.map(async (m) => {
        const done = await judgeOnce(deps, api, item, m, owned);
        if (done) records.push(done.record);
        if (done?.judged) judged.push(done.judged);
      }),
    );
    // The verdicts of a page in one insert (a crash before it leaves claims without verdicts: judged again),
    // then the judge's own records (the protection verdict store) in one more.
    await insertIgnoringDuplicates(models.messages, records);
    if (deps.judge.commit && judged.length) await deps.judge.commit(judged);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const scanned = records.length;
    const threats = records.filter((r) => THREAT_VERDICTS.includes(r.verdict)).length;
    link = page['@odata.nextLink'] ?? null;
    await models.mailboxes.updateOne({ _id: item._id }, { $set: { nextLink: link, failures: 0, updatedAt: deps.now() }, $inc: { scanned, threats } });
    await onPage(scanned);
  }
  return 'done';
}

/**
 * Fetches the MIME of a claimed `<scan>:<immutableId>` and judges it; the verdict record (inserted per
 * page by the caller) has the same _id. Inserts only: on FerretDB v1 an update scans the collection, which at tens of
 * thousands of messages would make a scan quadratic. False: judged before.
 */
async function judgeOnce(
  deps: MailboxScanDeps,
  api: GraphApi,
  item: MailboxRecord,
  m: ListedMessage,
  owned: Set<string>,
): Promise<{ record: MessageRecord; judged: { context: JudgeContext; judgement: Judgement } | null } | null> {
  const { models } = deps;
  const _id = `${item.scanId}:${m.id}`;
  // Claimed before: judged already, or claimed by a run that died before its verdict (this run holds
  // the mailbox's lease, so nobody else is judging it now).
  if (!owned.has(_id) && (await models.messages.exists({ _id }))) return null;
  let raw: Buffer | null = null;
  try {
    raw = await deps.limiter.run(item.userId, () =>
      api.getBytes(`/users/${encodeURIComponent(item.userId)}/messages/${encodeURIComponent(m.id)}/$value`, { headers: IMMUTABLE_IDS }),
    );
  } catch (err) {
    // Gone between the listing and the fetch (the user deleted it): nothing to judge, said so.
    if (!(err instanceof GraphRequestError && err.status === 404)) throw err;
  }
  let judgement: Judgement;
  let judged: { context: JudgeContext; judgement: Judgement } | null = null;
  if (!raw) judgement = { verdict: 'unscanned', evidence: { reason: 'the message is no longer in the mailbox' } };
  else {
    const context: JudgeContext = {
      tenantId: item.tenantId,
      recipient: item.address,
      userId: item.userId,
      messageId: m.id,
      source: 'graph',
      receivedAt: m.receivedDateTime,
    };
    try {
      const body = raw;
      judgement = await deps.judgeSlots.run('judge', () => deps.judge.judge(body, context));
      judged = { context, judgement };
    } catch (err) {
      judgement = { verdict: 'unscanned', evidence: { reason: `the scanner failed: ${(err as Error).message}` } };
    }
  }
  const record: MessageRecord = {
    _id,
    scanId: item.scanId,
    tenantId: item.tenantId,
    userId: item.userId,
    messageId: m.id,
    recipient: item.address,
    sender: m.from?.emailAddress?.address ?? '',
    subject: m.subject ?? '',
    receivedAt: m.receivedDateTime ? new Date(m.receivedDateTime) : null,
    parentFolderId: m.parentFolderId ?? null,
    verdict: judgement.verdict,
    evidence: judgement.evidence,
    judgedAt: deps.now(),
    location: 'mailbox',
    folderBefore: null,
    lastAction: null,
  };
  return { record, judged };
}

/** Claims a page's messages with one insert; returns the ids this call claimed (the others existed). */
async function claimPage(models: ThreatScanModels, ids: string[], at: Date): Promise<Set<string>> {
  if (!ids.length) return new Set();
  try {
    await models.claims.collection.insertMany(ids.map((_id) => ({ _id, at })) as never[], { ordered: false });
    return new Set(ids);
  } catch (err) {
    if (!isDuplicateOnly(err)) throw err;
    const taken = new Set(((err as { writeErrors?: { index: number }[] }).writeErrors ?? []).map((w) => ids[w.index]));
    // A duplicate reported without writeErrors: none counts as claimed here; each is checked for a verdict.
    if (!taken.size) return new Set();
    return new Set(ids.filter((id) => !taken.has(id)));
  }
}
