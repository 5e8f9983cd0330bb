/**
 * The decoded chunks of the mailbox index this process read or wrote lately, by chunk `_id`, least
 * recently used out first. Safe to share between requests and nodes' readers because a chunk is
 * immutable: its `_id` is never written twice (mailbox-index.ts writes new ids and drops old ones),
 * so a cached chunk can be missing from the database but never different from it. Holds rows, never
 * heads (the head says which chunks are current and is always read from the database).
 */
export interface ChunkCache<Row> {
  get(id: string): Row[] | undefined;
  set(id: string, rows: Row[]): void;
  delete(id: string): void;
}

/** `maxRows`: rows held in all (a row of the index is ~1 KB in memory with its search text). */
export function createChunkCache<Row>(maxRows: number): ChunkCache<Row> {
  // A Map iterates in insertion order: re-inserting on every hit makes its first key the least recent.
  const entries = new Map<string, Row[]>();
  let rows = 0;
  return {
    get(id) {
      const found = entries.get(id);
      if (found) {
        entries.delete(id);
        entries.set(id, found);
      }
      return found;
    },
    set(id, value) {
      this.delete(id);
      entries.set(id, value);
      rows += value.length;
      for (const [oldest, old] of entries) {
        if (rows <= maxRows || oldest === id) break;
        entries.delete(oldest);
        rows -= old.length;
      }
    },
    delete(id) {
      const old = entries.get(id);
      if (!old) return;
      entries.delete(id);
      rows -= old.length;
    },
  };
}
