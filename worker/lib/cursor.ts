/**
 * Cursor pagination shared by every list of the API: rows are read newest first, ordered by a
 * time and then an id, and a page's `next_cursor` is the position of its last row, opaque to
 * clients. A position (not an offset) keeps pages stable while rows are being added.
 */
import { and, eq, lt, or, type SQL } from 'drizzle-orm';
import type { AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import { z } from 'zod';
import { ApiError } from '../errors.ts';

/** Position after which a page starts: the time and id of the previous page's last row. */
export interface Cursor {
  /** The row's sort time (its creation time), Unix milliseconds. */
  createdAt: number;
  /** The row's id, which orders rows of the same millisecond. */
  id: string;
}

const CursorSchema = z.tuple([z.number().int(), z.string().min(1).max(512)]);

/**
 * The opaque text form of `cursor`: base64url of JSON, so it needs no escaping in a query string
 * and survives ids in any script (btoa alone only takes Latin-1).
 */
export function encodeCursor(cursor: Cursor): string {
  const bytes = new TextEncoder().encode(JSON.stringify([cursor.createdAt, cursor.id]));
  const binary = Array.from(bytes, (b) => String.fromCharCode(b)).join('');
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
}

/**
 * Parses a cursor made by `encodeCursor`. Plain base64 is accepted too: it is what cursors looked
 * like before, and a client may still hold one.
 * @throws ApiError `invalid_request` (400) naming the `cursor` parameter.
 */
export function decodeCursor(raw: string): Cursor {
  try {
    const binary = atob(raw.replaceAll('-', '+').replaceAll('_', '/'));
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    const value: unknown = JSON.parse(text);
    const [createdAt, id] = CursorSchema.parse(value);
    return { createdAt, id };
  } catch {
    throw new ApiError(
      'invalid_request',
      'cursor is not valid; pass the next_cursor of a previous page.',
      [{ path: 'cursor', message: 'is not a cursor returned by this API' }],
    );
  }
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
