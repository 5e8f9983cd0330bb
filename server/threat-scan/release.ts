/**
 * Releasing a message continuous protection moved to the mailbox's Lifeboat Quarantine folder: the
 * quarantine (server/protection/quarantine.ts) asks this for the message's MIME (the rescan and the
 * preview) and to move it back, by its stored ImmutableId, to the folder it came from (the inbox).
 * A message already back there is not moved again (a retried release is one move); one the user has
 * deleted meanwhile is a 410 problem naming it, never a 500. Never decides whether to release.
 */
import { GraphRequestError } from '../directory/graph/client';
import { viaGraph } from '../directory/graph/index';
import { HttpProblem } from '../http/problem';
import type { ContinuousModels } from './continuous-model';
import { IMMUTABLE_IDS } from './mailbox-scan';
import type { ThreatScanRunner } from './service';

/** `graph:<user>:<immutable id>`: the quarantine's message id of a mailbox message (see protection-judge.ts). */
export function parseGraphMessageId(messageId: string): { userId: string; immutableId: string } | null {
  const m = /^graph:([^:]+):(.+)$/.exec(messageId);
  return m ? { userId: m[1]!, immutableId: m[2]! } : null;
}

const gone = () =>
  new HttpProblem(410, 'Gone', 'The message is no longer in the mailbox (the user deleted it), so it cannot be moved back to the Inbox.', {
    reason: 'deletedFromMailbox',
  });

export function createGraphRelease(deps: { runner: ThreatScanRunner; models: ContinuousModels }) {
  const { runner } = deps;

  async function call<T>(tenantId: string, userId: string, fn: (api: Awaited<ReturnType<ThreatScanRunner['api']>>['api']) => Promise<T>): Promise<T> {
    const { api } = await runner.api(tenantId);
    return viaGraph(async () => {
      try {
        return await runner.limiter.run(userId, () => fn(api));
      } catch (err) {
        if (err instanceof GraphRequestError && err.status === 404) throw gone();
        throw err;
      }
    });
  }

  return {
    /** The message's MIME as the mailbox holds it; null when it is not a mailbox message. */
    async readRaw(tenantId: string, messageId: string): Promise<Buffer | null> {
      const id = parseGraphMessageId(messageId);
      if (!id) return null;
      const path = `/users/${encodeURIComponent(id.userId)}/messages/${encodeURIComponent(id.immutableId)}/$value`;
      return call(tenantId, id.userId, (api) => api.getBytes(path, { headers: IMMUTABLE_IDS }));
    },
    /** Moves it back to the folder it came from; `moved: false` when it is already there. */
    async moveBack(tenantId: string, messageId: string): Promise<{ moved: boolean; folderId: string }> {
      const id = parseGraphMessageId(messageId);
      if (!id) throw new Error(`${messageId} is not a mailbox message`);
      const detection = await deps.models.detections.findById(`${tenantId}:${id.userId}:${id.immutableId}`).lean();
      const folderId = detection?.fromFolderId ?? 'inbox';
      const path = `/users/${encodeURIComponent(id.userId)}/messages/${encodeURIComponent(id.immutableId)}`;
      const now = await call(tenantId, id.userId, (api) =>
        api.get<{ parentFolderId?: string }>(`${path}?$select=id,parentFolderId`, { headers: IMMUTABLE_IDS }),
      );
      // The delta entry's parentFolderId is the inbox's real id, so "already back" is an exact comparison.
      if (now.parentFolderId === folderId) return { moved: false, folderId };
      await call(tenantId, id.userId, (api) => api.post(`${path}/move`, { destinationId: folderId }, { headers: IMMUTABLE_IDS }));
      return { moved: true, folderId };
    },
  };
}
export type GraphRelease = ReturnType<typeof createGraphRelease>;
