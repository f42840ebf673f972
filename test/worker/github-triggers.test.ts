/**
 * The pure side of the GitHub intake: every documented example of the events Omni reads passes
 * its schema, and decideTrigger turns a payload, a mapping and an allow-list into work or a
 * reason, without I/O.
 */
import examples from '@octokit/webhooks-examples';
import { describe, expect, it } from 'vitest';
import {
  gitHubEvents,
  parsePayload,
  type GitHubEventPayload,
} from '../../worker/github/payloads.ts';
import { GitHubInstallationSettingsSchema } from '../../worker/github/settings.ts';
import {
  capPrompt,
  decideTrigger,
  FORK_REASON,
  mentions,
  type InstallationMapping,
  type TriggerInput,
} from '../../worker/github/triggers.ts';
import { example, merged } from './github-webhook-helpers.ts';

const app = { slug: 'omni-test', appId: '4242' };

const mapping: InstallationMapping = {
  installationId: 7,
  tenantId: 'ten_1',
  projectId: 'prj_1',
  settings: GitHubInstallationSettingsSchema.parse({ triggers: { labels: ['omni'] } }),
};

function parsed(event: (typeof gitHubEvents)[number], body: unknown): GitHubEventPayload {
  const result = parsePayload(event, body);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}

function input(payload: GitHubEventPayload, changes: Partial<TriggerInput> = {}): TriggerInput {
  return {
    deliveryId: 'd-1',
    receivedAt: 1,
    payload,
    mapping,
    allowList: [],
    app,
    ...changes,
  };
}

function comment(body: string, changes: Record<string, unknown> = {}) {
  return parsed(
    'issue_comment',
    merged(example('issue_comment', 'created'), {
      installation: { id: 7 },
      comment: { body },
      ...changes,
    }),
  );
}

describe('payload schemas', () => {
  it.each(gitHubEvents)('accept every documented example of %s', (event) => {
    const documented = examples.find((d) => d.name === event)?.examples ?? [];
    expect(documented.length).toBeGreaterThan(0);
    for (const body of documented) {
      const result = parsePayload(event, body);
      expect(result.ok, JSON.stringify(result.ok ? null : result.errors)).toBe(true);
    }
  });

  it('name the field that is wrong', () => {
    const body = merged(example('pull_request', 'opened'), {
      pull_request: { head: { sha: 'x' } },
    });
    const result = parsePayload('pull_request', body);
    expect(result).toEqual({
      ok: false,
      errors: [{ path: 'pull_request.head.sha', message: 'must be a commit SHA' }],
    });
  });
});

describe('decideTrigger', () => {
  it('needs a mapping of the same installation', () => {
    expect(decideTrigger(input(comment('/omni x'), { mapping: null }))).toEqual({
      kind: 'ignore',
      reason: 'installation 7 is not mapped to a project: PUT /v1/github/installations/7',
    });
    const other = { ...mapping, installationId: 8 };
    expect(decideTrigger(input(comment('/omni x'), { mapping: other })).kind).toBe('ignore');
  });

  it('command wins over mention; an /omni command off leaves a mention working', () => {
    const both = decideTrigger(input(comment('/omni ask @omni-test')));
    expect(both.kind === 'work' && both.work.trigger).toBe('command');
    const settings = GitHubInstallationSettingsSchema.parse({ triggers: { command: false } });
    const off = decideTrigger(
      input(comment('/omni ask @omni-test'), { mapping: { ...mapping, settings } }),
    );
    expect(off.kind === 'work' && off.work.trigger).toBe('mention');
    const neither = decideTrigger(
      input(comment('/omni ask'), { mapping: { ...mapping, settings } }),
    );
    expect(neither).toEqual({
      kind: 'ignore',
      reason: 'the /omni command trigger is off for this installation',
    });
  });

  it('repositories outside the allow-list are ignored, inside it accepted', () => {
    const inside = decideTrigger(
      input(comment('/omni x'), { allowList: ['https://github.com/Codertocat'] }),
    );
    expect(inside.kind).toBe('work');
    const outside = decideTrigger(
      input(comment('/omni x'), { allowList: ['https://github.com/Codertocat-evil'] }),
    );
    expect(outside.kind).toBe('ignore');
  });

  it('bots by type and the App by its login are ignored', () => {
    for (const sender of [
      { login: 'renovate[bot]', type: 'Bot' },
      { login: 'Omni-Test[bot]', type: 'User' },
    ]) {
      const decision = decideTrigger(input(comment('/omni x', { sender })));
      expect(decision).toEqual({ kind: 'ignore', reason: `sent by the bot ${sender.login}` });
    }
  });

  it('a pull request from a fork, or from a deleted fork, is not reviewed', () => {
    const body = merged(example('pull_request', 'opened', 1), {
      installation: { id: 7 },
      pull_request: { head: { repo: null } },
    });
    const settings = GitHubInstallationSettingsSchema.parse({
      triggers: { pull_request_review: true },
    });
    const decision = decideTrigger(
      input(parsed('pull_request', body), { mapping: { ...mapping, settings } }),
    );
    expect(decision).toEqual({ kind: 'ignore', reason: FORK_REASON });
    const fork = merged(body, {
      pull_request: {
        head: { repo: { clone_url: 'https://github.com/someone-else/Hello-World.git' } },
      },
    });
    expect(
      decideTrigger(input(parsed('pull_request', fork), { mapping: { ...mapping, settings } })),
    ).toEqual({ kind: 'ignore', reason: FORK_REASON });
  });
});

describe('mentions and prompts', () => {
  it.each([
    ['@omni-test please', true],
    ['please @OMNI-TEST.', true],
    ['(@omni-test)', true],
    ['@omni-testing', false],
    ['me@omni-test', false],
    ['org/@omni-test', false],
    ['omni-test', false],
  ])('%s mentions the App: %s', (body, expected) => {
    expect(mentions(body, 'omni-test')).toBe(expected);
  });

  it('capPrompt cuts on a character boundary and drops NUL', () => {
    expect(capPrompt('a\0b', 10)).toBe('ab');
    // "é" is 2 bytes: 5 bytes hold two of them, not two and a half.
    expect(capPrompt('ééé', 5)).toBe('éé');
    expect(capPrompt('😀😀', 7)).toBe('😀');
  });
});
