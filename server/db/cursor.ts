/**
 * Keyset paging, newest first: a cursor is the last row's (time, _id), so pages stay stable while
 * rows are appended. One codec for every list; a bad cursor is always the same 422 naming `cursor`.
 */
import { Types } from 'mongoose';
import { unprocessable } from '../http/problem';

export interface KeysetPosition<Id> {
  at: Date;
  id: Id;
}

type IdKind = 'objectId' | 'string';
type IdOf<K extends IdKind> = K extends 'objectId' ? Types.ObjectId : string;

export const INVALID_CURSOR = { path: 'cursor', message: 'is not valid' } as const;

export function encodeCursor(at: Date, id: Types.ObjectId | string): string {
  const idText = typeof id === 'string' ? id : id.toHexString();
  return Buffer.from(JSON.stringify([at.getTime(), idText])).toString('base64url');
}

/** Decodes a cursor made by encodeCursor; throws a 422 naming `cursor` for anything else. */
export function decodeCursor<K extends IdKind>(cursor: string, idKind: K): KeysetPosition<IdOf<K>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    throw unprocessable([{ ...INVALID_CURSOR }]);
  }
  const [ms, id] = Array.isArray(parsed) ? (parsed as unknown[]) : [];
  const validTime = typeof ms === 'number' && Number.isSafeInteger(ms) && ms > 0;
  const validId = typeof id === 'string' && id.length > 0 && id.length <= 200 && (idKind === 'string' || /^[0-9a-f]{24}$/.test(id));
  if (!validTime || !validId) throw unprocessable([{ ...INVALID_CURSOR }]);
  const at = new Date(ms);
  return { at, id: (idKind === 'objectId' ? new Types.ObjectId(id) : id) as IdOf<K> };
}

/** The filter condition for "after this position" in a (field desc, _id desc) order. */
export function olderThan<Id>(field: string, after: KeysetPosition<Id>): Record<string, unknown> {
  return { $or: [{ [field]: { $lt: after.at } }, { [field]: after.at, _id: { $lt: after.id } }] };
}

/** Cuts a page fetched with limit + 1 rows and makes the next cursor from its last row. */
export function keysetPage<R>(rows: R[], limit: number, position: (row: R) => [Date, Types.ObjectId | string]) {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > limit && last !== undefined ? encodeCursor(...position(last)) : null;
  return { page, nextCursor };
}
