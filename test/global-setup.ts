/**
 * Starts local-daytona on a random loopback port and creates a small git repository on disk for
 * the workerd tests, serves that repository over HTTP with redirecting paths next to it
 * (test/git-http-server.ts), serves a JWKS for the JWT tests (test/jwks-server.ts) and a stand-in
 * for Sentry's envelope endpoint (test/sentry-server.ts) and a webhook receiver
 * (test/webhook-receiver.ts) and a GitHub REST API stand-in (test/github-stand-in.ts) whose
 * repository `octo-org/omni-fixture` (installation 4242) is a bare copy of the sample repository
 * served over HTTP for clone and push; their URLs and the JWT signing keys reach the Worker as
 * bindings through provide/inject.
 */
import type { TestProject } from 'vitest/node';
import { spawnLocalDaytona } from '../scripts/lib/local-daytona-process.ts';
import { createSampleRepo } from '../scripts/lib/sample-repo.ts';
import { startAnthropicStandIn } from './anthropic-stand-in.ts';
import { startGitHttpServer } from './git-http-server.ts';
import { DEFAULT_INSTALLATION_ID, startGitHubStandIn } from './github-stand-in.ts';
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
    /** The GitHub REST API stand-in (test/github-stand-in.ts); `/_stand-in/…` steers it. */
    githubApiUrl: string;
    githubAppId: string;
    /** The App's private key, PKCS#1 as GitHub hands it out, and the same key as PKCS#8. */
    githubAppPrivateKey: string;
    githubAppPrivateKeyPkcs8: string;
    /** `octo-org/omni-fixture`, in installation `githubInstallationId`. */
    githubRepository: string;
    githubInstallationId: number;
    /** Its clone URL over HTTP (push needs an installation token). */
    githubRepoUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const daytona = await spawnLocalDaytona();
  const repo = await createSampleRepo();
  const jwks = await startJwksServer();
  const github = await startGitHubStandIn({ seed: repo.path });
  const fixture = await github.addRepository({ owner: 'octo-org', name: 'omni-fixture' });
  const gitHttp = await startGitHttpServer(repo.path, github);
  github.setGitBaseUrl(gitHttp.baseUrl);
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
  project.provide('githubApiUrl', github.url);
  project.provide('githubAppId', String(github.appId));
  project.provide('githubAppPrivateKey', github.privateKeyPem);
  project.provide('githubAppPrivateKeyPkcs8', github.privateKeyPkcs8Pem);
  project.provide('githubRepository', fixture.fullName);
  project.provide('githubInstallationId', DEFAULT_INSTALLATION_ID);
  project.provide('githubRepoUrl', `${gitHttp.baseUrl}/${fixture.fullName}.git`);
  return async () => {
    await anthropic.close();
    await sentry.close();
    await receiver.close();
    await gitHttp.close();
    await github.close();
    await jwks.close();
    await daytona.close();
    await repo.remove();
  };
}
