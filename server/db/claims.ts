/**
 * Claims and idempotent inserts: the one way Lifeboat makes "exactly once" safe on FerretDB v1, which has
 * no transactions and no atomic read-modify-write (docs/ARCHITECTURE.md, "Database rules").
 * A claim is an insert under a unique index: the one process whose insert succeeds owns the work.
 * Never decide ownership with findOneAndUpdate/$inc races.
 */
import type { Model } from 'mongoose';

const DUPLICATE_KEY = 11000;

interface WriteError {
  code?: number;
  err?: { code?: number };
}

/** True when a single write failed only because the unique key already exists. */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number } | null)?.code === DUPLICATE_KEY;
}

/** True when every failure of a (bulk) insert is a duplicate key: everything that is missing now exists. */
export function isDuplicateOnly(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: WriteError[] } | null;
  if (!e) return false;
  if (Array.isArray(e.writeErrors) && e.writeErrors.length > 0) {
    return e.writeErrors.every((w) => (w.code ?? w.err?.code) === DUPLICATE_KEY);
  }
  return e.code === DUPLICATE_KEY;
}

/**
 * Inserts `doc`; true when this call created it (the caller owns the work), false when it already
 * existed (someone else claimed it first). Any other error is thrown.
 */
export async function claimByInsert<T>(model: Model<T>, doc: Partial<T> & Record<string, unknown>): Promise<boolean> {
  return (await claimedRecord(model, doc)) !== null;
}

/**
 * claimByInsert for a caller that needs the claim it made (its _id, its defaults): the created
 * record as a plain object when this call owns the work, null when someone else claimed it first.
 */
export async function claimedRecord<T>(model: Model<T>, doc: Partial<T> & Record<string, unknown>): Promise<T | null> {
  try {
    return (await model.create(doc)).toObject() as T;
  } catch (err) {
    if (isDuplicateKey(err)) return null;
    throw err;
  }
}

/**
 * Inserts every document that does not exist yet (re-runnable after a crash: rows already written
 * are skipped, not an error). Other failures are thrown. Goes through the driver's collection, not
 * mongoose's casting: callers pass complete documents, and the hot mail path cannot afford the copy.
 */
export async function insertIgnoringDuplicates<T>(
  model: { collection: { insertMany: (docs: never[], options: object) => Promise<unknown> } },
  docs: readonly T[],
): Promise<void> {
  if (docs.length === 0) return;
  try {
    await model.collection.insertMany(docs as never[], { ordered: false });
  } catch (err) {
    if (!isDuplicateOnly(err)) throw err;
  }
}
