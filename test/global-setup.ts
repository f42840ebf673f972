/**
 * Starts local-daytona on a random loopback port and creates a small git repository on disk for
 * the workerd tests, serves that repository over HTTP with redirecting paths next to it
 * (test/git-http-server.ts), serves a JWKS for the JWT tests (test/jwks-server.ts) and a stand-in
 * for Sentry's envelope endpoint (test/sentry-server.ts) and a webhook receiver
 * (test/webhook-receiver.ts); their URLs and the JWT signing keys
 * reach the Worker as bindings through provide/inject.
 */
import type { TestProject } from 'vitest/node';
import { spawnLocalDaytona } from '../scripts/lib/local-daytona-process.ts';
import { createSampleRepo } from '../scripts/lib/sample-repo.ts';
import { startAnthropicStandIn } from './anthropic-stand-in.ts';
import { startGitHttpServer } from './git-http-server.ts';
import { startJwksServer } from './jwks-server.ts';
import { startSentryServer } from './sentry-server.ts';
import { startWebhookReceiver } from './webhook-receiver.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    daytonaApiUrl: string;
    daytonaApiKey: string;
    fixtureRepoUrl: string;
    httpRepoUrl: string;
    movedRepoUrl: string;
    foundRepoUrl: string;
    jwksUrl: string;
    jwtPrivateJwks: string;
    /** The Anthropic API stand-in agent jobs call (test/anthropic-stand-in.ts). */
    anthropicBaseUrl: string;
    sentryUrl: string;
    /** The loopback webhook receiver (test/webhook-receiver.ts). */
    webhookReceiverUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const daytona = await spawnLocalDaytona();
  const repo = await createSampleRepo();
  const jwks = await startJwksServer();
  const gitHttp = await startGitHttpServer(repo.path);
  const anthropic = await startAnthropicStandIn();
  const sentry = await startSentryServer();
  const receiver = await startWebhookReceiver();
  project.provide('daytonaApiUrl', daytona.apiUrl);
  project.provide('daytonaApiKey', daytona.apiKey);
  project.provide('fixtureRepoUrl', repo.url);
  project.provide('httpRepoUrl', gitHttp.url);
  project.provide('movedRepoUrl', gitHttp.movedUrl);
  project.provide('foundRepoUrl', gitHttp.foundUrl);
  project.provide('jwksUrl', jwks.url);
  project.provide('jwtPrivateJwks', jwks.privateJwks);
  project.provide('anthropicBaseUrl', anthropic.url);
  project.provide('sentryUrl', sentry.url);
  project.provide('webhookReceiverUrl', receiver.url);
  return async () => {
    await anthropic.close();
    await sentry.close();
    await receiver.close();
    await gitHttp.close();
    await jwks.close();
    await daytona.close();
    await repo.remove();
  };
}
