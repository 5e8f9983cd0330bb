/**
 * Which users may use the end-user tools (the pane's continuity mailbox, the web inbox, sending through
 * Lifeboat): a tenant setting, by directory group (transitively), default everyone (the seed's
 * "Configure and Enable End User Tools" step). Owns the setting and the decision; routes refuse with
 * the words below.
 */
import type { AuditContext } from '../audit/context';
import { Schema, type Connection } from 'mongoose';
import type { AuditService } from '../audit/service';
import { adminActor, type AdminIdentity } from '../auth/identity';
import { defineModel } from '../db/connection';
import type { DirectoryService } from '../directory/service';
import { forbidden, unprocessable } from '../http/problem';

interface AccessRecord {
  /** The tenant id: one document per tenant, read by _id. */
  _id: string;
  /** null: everyone; otherwise members (direct or nested) of these groups. */
  groupIds: string[] | null;
  updatedAt: Date;
}
const accessSchema = new Schema<AccessRecord>(
  { _id: { type: String, required: true }, groupIds: { type: [String], default: null }, updatedAt: { type: Date, required: true } },
  { versionKey: false },
);

export const NOT_ALLOWED =
  'Your organisation has not turned on Lifeboat’s mail tools for you: ask your IT administrator to add you to a group that may use them. ' +
  'Your continuity status still shows here.';
const CACHE_MS = 30_000;

export function createEndUserAccess(conn: Connection, deps: { directory: DirectoryService; audit: AuditService }) {
  const model = defineModel(conn, 'EndUserAccess', accessSchema);
  const cache = new Map<string, { at: number; groupIds: string[] | null }>();
  // A change is the `settings:changed` reaction: every node drops its copy (forget).
  const listeners: ((tenantId: string) => void)[] = [];

  async function groupsOf(tenantId: string): Promise<string[] | null> {
    const hit = cache.get(tenantId);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.groupIds;
    const doc = await model.findById(tenantId).lean<AccessRecord>();
    const groupIds = doc?.groupIds ?? null;
    cache.set(tenantId, { at: Date.now(), groupIds });
    return groupIds;
  }

  return {
    onChanged: (listener: (tenantId: string) => void) => void listeners.push(listener),
    /** The tenant's setting is read again at the next check. */
    forget: (tenantId: string) => void cache.delete(tenantId),

    async get(tenantId: string): Promise<{ groupIds: string[] | null }> {
      return { groupIds: await groupsOf(tenantId) };
    },

    async put(by: AdminIdentity, groupIds: string[] | null, context: AuditContext) {
      if (groupIds) {
        const unknown: string[] = [];
        for (const id of groupIds) if (!(await deps.directory.getGroup(by.tenantId, id))) unknown.push(id);
        if (unknown.length) throw unprocessable([{ path: 'groupIds', message: `no such group: ${unknown.join(', ')}` }]);
      }
      const before = await groupsOf(by.tenantId);
      await model.replaceOne({ _id: by.tenantId }, { _id: by.tenantId, groupIds, updatedAt: new Date() }, { upsert: true });
      for (const listener of listeners) listener(by.tenantId);
      await deps.audit.record({
        tenantId: by.tenantId,
        category: 'configuration',
        action: 'endUserAccess.changed',
        actor: adminActor(by),
        target: { type: 'tenant', id: by.tenantId, label: 'End-user tools' },
        before: { groupIds: before },
        after: { groupIds },
        ...context,
      });
      return { groupIds };
    },

    /** Throws the 403 that tells the user what to do when they are outside the allowed groups. */
    async check(tenantId: string, userId: string): Promise<void> {
      const allowed = await groupsOf(tenantId);
      if (!allowed) return;
      const mine = new Set(await deps.directory.transitiveGroupIds(tenantId, userId));
      if (!allowed.some((g) => mine.has(g))) throw forbidden(NOT_ALLOWED);
    },
  };
}
export type EndUserAccess = ReturnType<typeof createEndUserAccess>;
