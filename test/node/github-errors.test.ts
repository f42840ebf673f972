/**
 * worker/github/client.ts: how a failed GitHub call is classed (transient or permanent, and how
 * long GitHub asked to wait), and an answer without the fields Omni reads.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GitHubApiError, parseAnswer, toGitHubApiError } from '../../worker/github/client.ts';

/** What @octokit/request throws for an answered request (RequestError's shape). */
function answered(status: number, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`status ${status}`), { status, response: { status, headers } });
}

const op = 'GET /repos/{owner}/{repo}';
const now = Date.UTC(2026, 0, 1);

describe('GitHub errors', () => {
  it.each([
    [500, {}, true, null],
    [502, {}, true, null],
    [429, {}, true, null],
    [429, { 'retry-after': '12' }, true, 12],
    [403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 40) }, true, 40],
    [403, { 'retry-after': '60' }, true, 60],
    [403, { 'x-ratelimit-remaining': '12' }, false, null],
    [401, {}, false, null],
    [404, {}, false, null],
    [422, {}, false, null],
  ])('%i %j is transient: %s', (status, headers, transient, wait) => {
    const error = toGitHubApiError(op, answered(status, headers), now);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect(error).toMatchObject({ status, transient, retryAfterSeconds: wait, operation: op });
  });

  it('is transient with status 0 when no answer came', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { status: 500 });
    expect(toGitHubApiError(op, refused)).toMatchObject({ status: 0, transient: true });
    const timeout = new DOMException('The operation timed out.', 'TimeoutError');
    expect(toGitHubApiError(op, timeout)).toMatchObject({ status: 0, transient: true });
  });

  it('is permanent when an answer lacks the fields Omni reads', () => {
    const schema = z.object({ id: z.number() });
    expect(parseAnswer(op, schema, { id: 3, more: true })).toEqual({ id: 3 });
    expect(() => parseAnswer(op, schema, { id: 'x' })).toThrow(GitHubApiError);
    const error = (() => {
      try {
        return parseAnswer(op, schema, {});
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toMatchObject({ status: 502, transient: false });
    expect(String(error)).toMatch(/unexpected answer \(id/);
  });
});
