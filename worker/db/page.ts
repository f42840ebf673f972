/**
 * The database half of cursor pagination (worker/lib/cursor.ts is the API half): lists are read
 * newest first, ordered by a time and then an id, and a page ends where the next one starts. A
 * position (not an offset) keeps pages stable while rows are being added.
 */
import { and, eq, lt, or, type SQL } from 'drizzle-orm';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';

/** Position after which a page starts: the time and id of the previous page's last row. */
export interface Cursor {
  /** The row's sort time (its creation time), Unix milliseconds. */
  createdAt: number;
  /** The row's id, which orders rows of the same millisecond. */
  id: string;
}

/** The condition "older than `cursor`" on a (time, id) order, or undefined without a cursor. */
export function olderThan(
  cursor: Cursor | undefined,
  time: AnySQLiteColumn,
  id: AnySQLiteColumn,
): SQL | undefined {
  if (!cursor) return undefined;
  return or(lt(time, cursor.createdAt), and(eq(time, cursor.createdAt), lt(id, cursor.id)));
}

/**
 * Cuts `rows`, read with a limit of `limit + 1`, to one page; the extra row only tells whether a
 * next page exists, and the next page starts after the page's last row.
 */
export function toPage<T>(
  rows: T[],
  limit: number,
  positionOf: (row: T) => Cursor,
): { rows: T[]; next: Cursor | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, next: rows.length > limit && last ? positionOf(last) : null };
}
