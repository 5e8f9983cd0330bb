/**
 * Collections an earlier version wrote and nothing reads any more. An upgraded database drops them at start
 * (syncIndexes) rather than keep, unread and unswept, copies of mailbox contents and directory records.
 */
import type { Connection } from 'mongoose';

export const RETIRED_COLLECTIONS: Record<string, string> = {
  // The mailbox index before it was sharded (a tenant's first index write rebuilds its mailboxes from the entries).
  mailboxindexheads: 'unsharded mailbox index heads',
  mailboxindexchunks: 'unsharded mailbox index chunks: summaries and search text of every mailbox',
  // The synced Entra directory before generations (synced-store.ts): a record per user and group, with addresses and phones.
  synceddirectoryusers: 'synced directory users from before generations',
  synceddirectorygroups: 'synced directory groups from before generations',
};

/** Drops the retired collections present; returns their names. */
export async function dropRetiredCollections(conn: Connection): Promise<string[]> {
  const db = conn.db!;
  const present = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  const dropped = Object.keys(RETIRED_COLLECTIONS).filter((name) => present.has(name));
  for (const name of dropped) await db.dropCollection(name);
  return dropped;
}
