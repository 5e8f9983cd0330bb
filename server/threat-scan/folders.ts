/**
 * The mailbox's "Lifeboat Quarantine" folder, where Remove Threats (soft) and Protect mode move threats:
 * created once per mailbox through Graph (an existing one is found by name) and remembered, so every
 * later move is one request.
 */
import { insertIgnoringDuplicates } from '../db/claims';
import { GraphRequestError, type GraphApi } from '../directory/graph/client';
import type { MailboxLimiter } from './limiter';
import type { ThreatScanModels } from './model';

export const QUARANTINE_FOLDER = 'Lifeboat Quarantine';

export function quarantineFolders(models: ThreatScanModels, limiter: MailboxLimiter) {
  return async function quarantineFolder(api: GraphApi, tenantId: string, userId: string): Promise<string> {
    const key = `${tenantId}:${userId}`;
    const known = await models.folders.findById(key).lean();
    if (known) return known.folderId;
    const user = encodeURIComponent(userId);
    let folderId: string;
    try {
      folderId = (await limiter.run(userId, () => api.post<{ id: string }>(`/users/${user}/mailFolders`, { displayName: QUARANTINE_FOLDER }))).id;
    } catch (err) {
      if (!(err instanceof GraphRequestError && err.status === 409)) throw err;
      const filter = encodeURIComponent(`displayName eq '${QUARANTINE_FOLDER}'`);
      const found = await limiter.run(userId, () => api.get<{ value: { id: string }[] }>(`/users/${user}/mailFolders?$filter=${filter}`));
      folderId = found.value[0]!.id;
    }
    await insertIgnoringDuplicates(models.folders, [{ _id: key, folderId }]);
    return folderId;
  };
}
