/** OpenAPI pieces that route modules share: error responses and the security requirement. */
import { z } from '@hono/zod-openapi';
import { ProblemSchema } from './problem.ts';

/** An error response of a route, documented as a problem+json body (and its headers, if some). */
export function problem(description: string, headers?: z.ZodObject) {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/problem+json': { schema: ProblemSchema } },
  };
}

/** The header of every 401 (worker/lib/error-headers.ts). */
export const authChallenge = z.object({
  'WWW-Authenticate': z.string().openapi({
    description:
      'RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused.',
    example:
      'Bearer realm="omni", error="invalid_token", error_description="The API key is not valid"',
  }),
});

/** The header of every 403: the caller's role is too weak (worker/lib/error-headers.ts). */
export const scopeChallenge = z.object({
  'WWW-Authenticate': z.string().openapi({
    description:
      'RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`.',
  }),
});

/** The header of a 426 (RFC 9110 §15.5.22): the protocol to switch to. */
export const upgradeHeader = z.object({ Upgrade: z.literal('websocket') });

/** The security requirement of every /v1 route: a bearer API key or JWT. */
export const security = [{ bearerAuth: [] }];

/** The `ETag` of an answer that can be revalidated (worker/lib/etag.ts). */
export const ETagHeader = z.object({
  ETag: z.string().openapi({
    description: 'A weak tag of the JSON answer; send it as If-None-Match to revalidate.',
    example: 'W/"3q2-7wEAAAAAAAAAAAAAAA"',
  }),
});

/** The conditional-request header of a GET that can answer 304 (RFC 9110 §13.1.2). */
export const IfNoneMatchHeaders = z.object({
  'if-none-match': z.string().max(1024).optional().openapi({
    description:
      'The ETag of a previous answer (or a list of them, or `*`): unchanged, the answer is 304 without a body.',
  }),
});
