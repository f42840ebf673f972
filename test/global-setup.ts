/**
 * Starts local-daytona on a random loopback port and creates a small git repository on disk for
 * the workerd tests; their URLs reach the Worker as bindings through provide/inject.
 */
import type { TestProject } from 'vitest/node';
import { spawnLocalDaytona } from '../scripts/lib/local-daytona-process.ts';
import { createSampleRepo } from '../scripts/lib/sample-repo.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    daytonaApiUrl: string;
    daytonaApiKey: string;
    fixtureRepoUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const daytona = await spawnLocalDaytona();
  const repo = await createSampleRepo();
  project.provide('daytonaApiUrl', daytona.apiUrl);
  project.provide('daytonaApiKey', daytona.apiKey);
  project.provide('fixtureRepoUrl', repo.url);
  return async () => {
    await daytona.close();
    await repo.remove();
  };
}
