/** Query parameters every cursor-paginated list accepts, described once for the OpenAPI document. */
import { z } from '@hono/zod-openapi';

/** `limit` (1..100, default 20) and `cursor` (the `next_cursor` of the previous page). */
export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ description: 'Rows per page, 1 to 100.' }),
  cursor: z
    .string()
    .max(1024)
    .optional()
    .openapi({ description: 'The next_cursor of the previous page; omit for the first page.' }),
};

/** `next_cursor` of a page: pass it as `cursor` to read on; null on the last page. */
export const nextCursor = z
  .string()
  .nullable()
  .openapi({ description: 'Pass as cursor to get the next page; null on the last page.' });

/** For endpoints that take no query parameters: each one sent is an error that names it. */
export const NoQuerySchema = z.strictObject({});

/** For actions that take no body: an empty body, `{}`, or nothing at all. */
export const NoBodySchema = z.strictObject({});
