/**
 * A missing or bad setting is a ConfigError: permanent for the Job DO (retrying cannot fix a
 * setting), a 503 naming the setting at the edge.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { classify } from '../../durable-objects/job/daytona.ts';
import { JobRecord } from '../../durable-objects/job/record.ts';
import { JobRunner } from '../../durable-objects/job/runner.ts';
import { initialState } from '../../durable-objects/job/state.ts';
import { JobStorage } from '../../durable-objects/job/storage.ts';
import { ConfigError, loadConfig } from '../../worker/config.ts';
import { jobSpec } from './job-spec.ts';

describe('configuration errors', () => {
  it('are thrown as ConfigError naming the setting, and are never retryable', () => {
    const config = { ...env, DAYTONA_API_KEY: '' };
    expect(() => loadConfig(config)).toThrow(ConfigError);
    expect(() => loadConfig(config)).toThrow(/DAYTONA_API_KEY/);
    expect(classify(new ConfigError('The setting X is missing.'))).toEqual({ kind: 'permanent' });
  });

  it('fail a job at once instead of retrying its step', async () => {
    const id = `job_${crypto.randomUUID().replaceAll('-', '')}`;
    const stub = env.JOB.getByName(id);
    await runInDurableObject(stub, async (_instance, state) => {
      const store = new JobStorage(state.storage);
      store.ensureSchema();
      const record = new JobRecord(state, env, store);
      record.save(
        initialState(
          jobSpec('ten_config_error', {
            id,
            repoUrl: 'https://github.com/o/r.git',
            timeoutSeconds: 600,
          }),
        ),
      );
      const runner = new JobRunner(record, { ...env, DAYTONA_API_KEY: '' });
      await runner.advance(0);
      const job = record.require();
      expect(job.status).toBe('failed');
      expect(job.errorCode).toBe('sandbox_create_failed');
      expect(job.errorMessage).toMatch(/DAYTONA_API_KEY/);
      // No retry was scheduled: the step is not run again.
      expect(store.deadlines().map((d) => d.kind)).not.toContain('advance');
    });
  });
});
