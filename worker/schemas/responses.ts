/** OpenAPI pieces that route modules share: error responses and the security requirement. */
import { ProblemSchema } from './problem.ts';

/** An error response of a route, documented as a problem+json body. */
export function problem(description: string) {
  return {
    description,
    content: { 'application/problem+json': { schema: ProblemSchema } },
  };
}

/** The security requirement of every /v1 route: a bearer API key or JWT. */
export const security = [{ bearerAuth: [] }];
