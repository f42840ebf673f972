/**
 * The API half of cursor pagination (worker/db/page.ts reads the pages): a page's `next_cursor`
 * is the position of its last row, opaque to clients.
 */
import { z } from 'zod';
import type { Cursor } from '../db/page.ts';
import { ApiError } from '../errors.ts';

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
