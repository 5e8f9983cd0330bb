/**
 * One mailbox of a Threat Scan, from where it stopped: list the messages received in the window
 * (paging by @odata.nextLink, the link persisted after each page so a retry or a restart goes on
 * from there), fetch each message's MIME and judge it once. Every Graph request goes through the
 * per-mailbox limiter (MIME fetches in JSON batches when a batcher is given, each request of a batch
 * holding its mailbox slot); Graph's throttling (429/503 + Retry-After) is waited out by the SDK's retry
 * handler or, inside a batch, by graph-batch.ts, and counted; what still fails is the caller's to back off or skip.
 */
import { GraphRequestError, type GraphApi } from '../directory/graph/client';
import { insertIgnoringDuplicates, isDuplicateOnly } from '../db/claims';
import { THREAT_VERDICTS, type JudgeContext, type Judgement, type MessageJudge } from './judge';
import type { GraphBatcher } from './graph-batch';
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
  /** When set, message MIME goes through Graph JSON batches shared by the mailboxes being scanned. */
  batch?: GraphBatcher;
  /** Told of each request throttled inside a batch (the SDK tells the client's own callback of the rest). */
  onThrottled?: (status: number) => void;
}

export function firstPage(userId: string, since: Date, pageSize: number): string {
  const filter = encodeURIComponent(`receivedDateTime ge ${since.toISOString()}`);
  return `/users/${encodeURIComponent(userId)}/messages?$filter=${filter}&$top=${pageSize}&$select=${SELECT}`;
}

interface PageWork {
  /** The listing's continuation: known as soon as the page is listed, so the next page can start. */
  listed: Promise<string | null>;
  /** Every message of the page settled: its records, what the judge keeps, and the first failure. */
  settled: Promise<PageOutcome>;
}

interface PageOutcome {
  records: MessageRecord[];
  judged: { context: JudgeContext; judgement: Judgement }[];
  /** Judged before by a run that counted nothing for them (their page was never recorded): counted now. */
  carried: { scanned: number; threats: number };
  failure: unknown;
}

/**
 * Scans until the mailbox is done or `stopped()` says the scan was ended. Resolves 'done' or 'stopped';
 * throws a GraphRequestError the caller classifies. `onPage` is told after each page is recorded.
 *
 * Pipelined: while one page's messages are fetched and judged, the next page is listed, claimed and its
 * messages fetched (every request still through the limiter), so the judges never wait for a page
 * boundary. Pages are recorded strictly in order: a page's verdicts, then its progress with the next
 * link, and only then the page after it, so the persisted link never passes an unrecorded page.
 */
export async function scanMailbox(
  deps: MailboxScanDeps,
  api: GraphApi,
  item: MailboxRecord,
  since: Date,
  stopped: () => Promise<boolean>,
  onPage: (scanned: number) => Promise<void>,
): Promise<'done' | 'stopped'> {
  const { models } = deps;
  // Ids claimed by this run: a message listed again on a later page (new mail shifts Graph's pages)
  // is already being judged here, not a leftover of a dead run.
  const ours = new Set<string>();
  const start = (link: string): PageWork => {
    const listing = deps.limiter.run(item.userId, () => api.get<{ value?: ListedMessage[]; '@odata.nextLink'?: string }>(link, { headers: IMMUTABLE_IDS }));
    const listed = listing.then((page) => page['@odata.nextLink'] ?? null);
    listed.catch(() => {}); // a failed listing is thrown where it is awaited; a page never awaited fails quietly
    const settled = listing.then(
      (page) => judgePage(deps, api, item, link, page.value ?? [], ours),
      (failure: unknown): PageOutcome => ({ records: [], judged: [], carried: { scanned: 0, threats: 0 }, failure }),
    );
    return { listed, settled };
  };
  let current: PageWork | null = start(item.nextLink ?? firstPage(item.userId, since, deps.pageSize));
  try {
    while (current) {
      const page: PageWork = current;
      current = null;
      const link = await page.listed;
      // The next page starts now, unless the scan was ended: this one is still recorded (its messages are judged).
      const halted = await stopped();
      if (link && !halted) current = start(link);
      const outcome = await page.settled;
      // The verdicts of a page in one insert (a crash before it leaves claims without verdicts: judged again),
      // then the judge's own records (the protection verdict store) in one more.
      await insertIgnoringDuplicates(models.messages, outcome.records);
      if (deps.judge.commit && outcome.judged.length) await deps.judge.commit(outcome.judged);
      if (outcome.failure) throw outcome.failure;
      const { scanned, threats } = tally(outcome);
      await models.mailboxes.updateOne({ _id: item._id }, { $set: { nextLink: link, failures: 0, updatedAt: deps.now() }, $inc: { scanned, threats } });
      await onPage(scanned);
      if (halted && link) return 'stopped';
    }
  } finally {
    // A page started before a failure is waited for: nothing of this run is left in flight. What it judged is
    // recorded and counted, but its link is not persisted: the next attempt lists from the failed page again, where
    // Graph may hand out another link for this page, so its records could not be recognised as uncounted then.
    const left = current as PageWork | null;
    if (left) {
      const outcome = await left.settled;
      await insertIgnoringDuplicates(models.messages, outcome.records).catch(() => {});
      if (deps.judge.commit && outcome.judged.length) await deps.judge.commit(outcome.judged).catch(() => {});
      const { scanned, threats } = tally(outcome);
      if (scanned) await models.mailboxes.updateOne({ _id: item._id }, { $inc: { scanned, threats } }).catch(() => {});
    }
  }
  return 'done';
}

/** A page's figures: its new records, and what an earlier run judged on it without counting. */
function tally(outcome: PageOutcome): { scanned: number; threats: number } {
  return {
    scanned: outcome.records.length + outcome.carried.scanned,
    threats: outcome.records.filter((r) => THREAT_VERDICTS.includes(r.verdict)).length + outcome.carried.threats,
  };
}

/** Claims a page's messages, then fetches and judges each one this run owns; never throws (the failure is returned). */
async function judgePage(
  deps: MailboxScanDeps,
  api: GraphApi,
  item: MailboxRecord,
  link: string,
  listed: ListedMessage[],
  ours: Set<string>,
): Promise<PageOutcome> {
  const outcome: PageOutcome = { records: [], judged: [], carried: { scanned: 0, threats: 0 }, failure: null };
  try {
    const ids = listed.map((m) => `${item.scanId}:${m.id}`);
    const owned = await claimPage(deps.models, ids, deps.now());
    const results = await Promise.allSettled(
      listed.map(async (m, i) => {
        const id = ids[i]!;
        if (!owned.has(id)) {
          if (ours.has(id)) return; // an earlier page of this run judges it
          // Claimed before: judged already, or claimed by a run that died before its verdict (this run holds
          // the mailbox's lease: nobody else judges it). Judged on this very page, whose progress was never
          // recorded (the persisted link still names it): counted now. Judged on an earlier page (new mail
          // shifted Graph's pages): counted there.
          const before = await deps.models.messages.findById(id, { verdict: 1, page: 1 }).lean<Pick<MessageRecord, 'verdict' | 'page'>>();
          if (before) {
            if (before.page === link) {
              outcome.carried.scanned++;
              if (THREAT_VERDICTS.includes(before.verdict)) outcome.carried.threats++;
            }
            return;
          }
        }
        ours.add(id);
        const done = await judgeOnce(deps, api, item, m, id, link);
        outcome.records.push(done.record);
        if (done.judged) outcome.judged.push(done.judged);
      }),
    );
    outcome.failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason ?? null;
  } catch (err) {
    outcome.failure = err;
  }
  return outcome;
}

/**
 * Fetches the MIME of a claimed `<scan>:<immutableId>` and judges it; the verdict record (inserted per
 * page by the caller) has the same _id. Inserts only: on FerretDB v1 an update scans the collection, which at tens of
 * thousands of messages would make a scan quadratic.
 */
async function judgeOnce(
  deps: MailboxScanDeps,
  api: GraphApi,
  item: MailboxRecord,
  m: ListedMessage,
  _id: string,
  page: string,
): Promise<{ record: MessageRecord; judged: { context: JudgeContext; judgement: Judgement } | null }> {
  let raw: Buffer | null = null;
  try {
    const path = `/users/${encodeURIComponent(item.userId)}/messages/${encodeURIComponent(m.id)}/$value`;
    const batch = deps.batch;
    raw = await deps.limiter.run(item.userId, () =>
      batch ? batch.getBytes(api, item.tenantId, path, IMMUTABLE_IDS, deps.onThrottled) : api.getBytes(path, { headers: IMMUTABLE_IDS }),
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
    page,
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
