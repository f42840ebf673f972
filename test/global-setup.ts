/**
 * Starts local-daytona on a random loopback port and creates a small git repository on disk for
 * the workerd tests, and serves a JWKS for the JWT tests (test/jwks-server.ts); their URLs and
 * the JWT signing keys reach the Worker as bindings through provide/inject.
 */
import type { TestProject } from 'vitest/node';
import { spawnLocalDaytona } from '../scripts/lib/local-daytona-process.ts';
import { createSampleRepo } from '../scripts/lib/sample-repo.ts';
import { startJwksServer } from './jwks-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    daytonaApiUrl: string;
    daytonaApiKey: string;
    fixtureRepoUrl: string;
    jwksUrl: string;
    jwtPrivateJwks: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const daytona = await spawnLocalDaytona();
  const repo = await createSampleRepo();
  const jwks = await startJwksServer();
  project.provide('daytonaApiUrl', daytona.apiUrl);
  project.provide('daytonaApiKey', daytona.apiKey);
  project.provide('fixtureRepoUrl', repo.url);
  project.provide('jwksUrl', jwks.url);
  project.provide('jwtPrivateJwks', jwks.privateJwks);
  return async () => {
    await jwks.close();
    await daytona.close();
    await repo.remove();
  };
}
