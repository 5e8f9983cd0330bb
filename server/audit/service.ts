/** The audit trail: every decision and change, append-only, read back per tenant. */
import { decodeCursor, keysetPage, olderThan } from '../db/cursor';
import type { AuditCategory } from './categories';
import type { AuditContext } from './context';
import { csvHeader, csvRow } from './csv';
import type { AuditActor, AuditModel, AuditRecord, AuditTarget } from './model';

export interface AuditInput {
  tenantId: string;
  category: AuditCategory;
  action: string;
  actor: AuditActor;
  target?: AuditTarget | null;
  before?: unknown;
  after?: unknown;
  ip?: AuditContext['ip'];
  requestId?: AuditContext['requestId'];
}

export interface AuditFilter {
  category?: string;
  actor?: string;
  from?: Date;
  to?: Date;
  /** Only entries about this target (e.g. one event's id). */
  targetId?: string;
}

export interface AuditEntry extends AuditContext {
  id: string;
  at: string;
  category: string;
  action: string;
  actor: AuditActor;
  target: AuditTarget | null;
  before: unknown;
  after: unknown;
}

const toEntry = (r: AuditRecord): AuditEntry => ({
  id: r._id.toHexString(),
  at: r.at.toISOString(),
  category: r.category,
  action: r.action,
  actor: { type: r.actor.type, id: r.actor.id ?? null, email: r.actor.email ?? null },
  target: r.target ?? null,
  before: r.before ?? null,
  after: r.after ?? null,
  ip: r.ip ?? null,
  requestId: r.requestId ?? null,
});

function query(tenantId: string, filter: AuditFilter, cursor?: string) {
  const conditions: Record<string, unknown>[] = [{ tenantId }];
  if (filter.category) conditions.push({ category: filter.category });
  if (filter.actor) conditions.push({ 'actor.email': filter.actor.toLowerCase() });
  if (filter.from) conditions.push({ at: { $gte: filter.from } });
  if (filter.to) conditions.push({ at: { $lt: filter.to } });
  if (filter.targetId) conditions.push({ 'target.id': filter.targetId });
  if (cursor) conditions.push(olderThan('at', decodeCursor(cursor, 'objectId')));
  return { $and: conditions };
}

export const AUDIT_CSV_COLUMNS = ['time', 'category', 'action', 'actor', 'target', 'before', 'after', 'ip', 'requestId'];

export function createAuditService(audit: AuditModel) {
  return {
    async record(input: AuditInput): Promise<void> {
      await audit.create({
        tenantId: input.tenantId,
        at: new Date(),
        category: input.category,
        action: input.action,
        actor: { ...input.actor, email: input.actor.email?.toLowerCase() ?? null },
        target: input.target ?? null,
        before: input.before ?? null,
        after: input.after ?? null,
        ip: input.ip ?? null,
        requestId: input.requestId ?? null,
      });
    },

    async list(tenantId: string, filter: AuditFilter, options: { cursor?: string; limit?: number } = {}) {
      const limit = options.limit ?? 50;
      const rows = await audit
        .find(query(tenantId, filter, options.cursor))
        .sort({ at: -1, _id: -1 })
        .limit(limit + 1)
        .lean<AuditRecord[]>();
      const { page, nextCursor } = keysetPage(rows, limit, (r) => [r.at, r._id]);
      return { items: page.map(toEntry), nextCursor };
    },

    /** The whole filtered trail as CSV, read in pages so a long trail never sits in memory at once. */
    async *exportCsv(tenantId: string, filter: AuditFilter): AsyncGenerator<string> {
      yield csvHeader(AUDIT_CSV_COLUMNS);
      let cursor: string | undefined;
      do {
        const page = await this.list(tenantId, filter, { cursor, limit: 500 });
        for (const e of page.items) {
          yield csvRow([
            e.at,
            e.category,
            e.action,
            e.actor.email ?? e.actor.id ?? e.actor.type,
            e.target ? [e.target.type, e.target.label ?? e.target.id].filter(Boolean).join(': ') : '',
            e.before === null ? '' : JSON.stringify(e.before),
            e.after === null ? '' : JSON.stringify(e.after),
            e.ip ?? '',
            e.requestId ?? '',
          ]);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
