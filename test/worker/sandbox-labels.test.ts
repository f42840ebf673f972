/**
 * DAYTONA_SANDBOX_LABELS: extra labels on every job sandbox (npm run test:live labels its run
 * with them, to find and delete what it created). The runner merges them under omni.job and
 * omni.tenant; test/node/live-cleanup.test.ts sees them on a sandbox of a real job.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../worker/config.ts';

const withLabels = (value: string | undefined) => ({ ...env, DAYTONA_SANDBOX_LABELS: value });

describe('DAYTONA_SANDBOX_LABELS', () => {
  it('is empty when unset or blank', () => {
    expect(loadConfig(withLabels(undefined)).daytona.sandboxLabels).toEqual({});
    expect(loadConfig(withLabels('  ')).daytona.sandboxLabels).toEqual({});
  });

  it('is a JSON object of strings', () => {
    const labels = loadConfig(withLabels('{"omni-live-run":"r1","team":"ops"}')).daytona
      .sandboxLabels;
    expect(labels).toEqual({ 'omni-live-run': 'r1', team: 'ops' });
  });

  it.each([
    ['not json', 'not JSON'],
    ['["a"]', 'DAYTONA_SANDBOX_LABELS'],
    ['{"n":1}', 'DAYTONA_SANDBOX_LABELS'],
    ['{"omni.job":"x"}', 'omni.* labels are set by Omni itself'],
  ])('refuses %s', (value, message) => {
    expect(() => loadConfig(withLabels(value))).toThrow(ConfigError);
    expect(() => loadConfig(withLabels(value))).toThrow(message);
  });
});
