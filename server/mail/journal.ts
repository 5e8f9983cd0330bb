/**
 * The routing journal: an entry per accepted message, written before the 250, so a message stored but
 * not routed when the process dies is routed after the restart (recovery reads the journal, never the
 * messages collection). For a small inbound message the entry *is* the message record: the receiver's
 * group commit is then one insert (one SQLite transaction) per batch, and routing copies the record
 * into the messages collection before anything that points to it (measured: a second insert per batch
 * for a separate marker cost a third of the receiver's rate at 5 connections). Other messages (large
 * ones, outbound) are written to the messages collection with a small marker entry here.
 *
 * Markers go to segment collections (`mail_pending_<created>_<owner>`), one open at a time per
 * process. A segment is closed after SEGMENT_MESSAGES markers or SEGMENT_MS, and dropped as a whole
 * once every message it names is routed. Removing markers one by one is what this avoids: on FerretDB
 * v1 (SQLite) every delete scans its collection even when filtered by _id, and holds the writer while
 * it does (measured: it halved the receiver's rate). Dropping a collection is one cheap statement.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from 'mongodb';
import type { MailMessageRecord } from './model';
import { insertIgnoringDuplicates } from '../db/claims';

const PREFIX = 'mail_pending_';
const SEGMENT_MESSAGES = 2000;
const SEGMENT_MS = 30_000;

export interface Marker {
  _id: string;
  tenantId: string;
  receivedAt: Date;
}

/** A marker, or the whole message record (still to be copied to the messages collection). */
export type JournalEntry = Marker | MailMessageRecord;

export const carriesMessage = (entry: JournalEntry): entry is MailMessageRecord => 'size' in entry;

interface Segment {
  name: string;
  createdAt: number;
  assigned: number;
  outstanding: number;
  closed: boolean;
}

export function createRoutingJournal(db: Db, logger: Logger) {
  const owner = randomBytes(4).toString('hex');
  const mine = new Map<string, Segment>();
  const byKey = new Map<string, Segment>();
  let current: Segment | null = null;

  /** Drops in flight: a clean stop waits for them (else they fail on the closed connection and wait for recovery). */
  const dropping = new Set<Promise<unknown>>();
  function maybeDrop(seg: Segment): void {
    if (!seg.closed || seg.outstanding > 0) return;
    mine.delete(seg.name);
    const drop = db
      .dropCollection(seg.name)
      .catch((err) => logger.warn({ err, segment: seg.name }, 'dropping a routed journal segment failed; recovery drops it later'))
      .finally(() => dropping.delete(drop));
    dropping.add(drop);
  }

  function segment(): Segment {
    if (current && current.assigned < SEGMENT_MESSAGES && Date.now() - current.createdAt < SEGMENT_MS) return current;
    if (current) {
      current.closed = true;
      maybeDrop(current);
    }
    const createdAt = Date.now();
    current = { name: `${PREFIX}${createdAt.toString(36)}_${owner}`, createdAt, assigned: 0, outstanding: 0, closed: false };
    mine.set(current.name, current);
    return current;
  }

  const ageOf = (name: string) => Date.now() - parseInt(name.slice(PREFIX.length).split('_')[0] ?? '', 36);

  return {
    /** Writes the entries (resolves when they are stored). Each key must later be passed to done(). */
    async write(entries: JournalEntry[]): Promise<void> {
      if (!entries.length) return;
      const seg = segment();
      for (const m of entries) {
        if (byKey.has(m._id)) continue;
        seg.assigned++;
        seg.outstanding++;
        byKey.set(m._id, seg);
      }
      await insertIgnoringDuplicates({ collection: db.collection(seg.name) as never }, entries);
    },

    /** This process's entry for a message it accepted and has not routed yet (null if none). */
    async lookup(key: string): Promise<JournalEntry | null> {
      const seg = byKey.get(key);
      return seg ? db.collection<JournalEntry>(seg.name).findOne({ _id: key }) : null;
    },

    /** These messages are routed (or were never accepted): their segment may go once all its messages are. */
    done(keys: string[]): void {
      for (const key of keys) {
        const seg = byKey.get(key);
        if (!seg) continue;
        byKey.delete(key);
        seg.outstanding--;
        maybeDrop(seg);
      }
    },

    /** A clean stop: the open segment is closed (dropped now if everything in it is routed), and the drops finish. */
    async close(): Promise<void> {
      if (current) {
        current.closed = true;
        maybeDrop(current);
        current = null;
      }
      await Promise.all([...dropping]);
    },

    /** Messages this process accepted and has not routed yet. */
    outstanding(): number {
      return byKey.size;
    },

    /**
     * Markers of segments this process does not own (left by a process that died, or by another one
     * still running: routing is idempotent, so routing a message twice is harmless).
     */
    async foreign(): Promise<{ name: string; ageMs: number }[]> {
      const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith(PREFIX) && !mine.has(n));
      return names.sort().map((name) => ({ name, ageMs: ageOf(name) }));
    },

    /** A segment's entries, read a few at a time (entries may carry whole messages). */
    entries(name: string): AsyncIterable<JournalEntry> {
      return db.collection<JournalEntry>(name).find({}, { batchSize: 50 });
    },

    /** Drops a foreign segment once it is surely abandoned (its owner would have closed it long ago). */
    async dropIfAbandoned(name: string, ageMs: number, abandonedMs: number): Promise<boolean> {
      if (mine.has(name) || !(ageMs >= abandonedMs + SEGMENT_MS)) return false;
      await db.dropCollection(name).catch(() => false);
      return true;
    },
  };
}
export type RoutingJournal = ReturnType<typeof createRoutingJournal>;
