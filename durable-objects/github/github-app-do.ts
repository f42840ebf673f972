/**
 * GitHubAppDO: one per GitHub App installation (named `installation:<id>`). It takes the
 * deliveries the Worker accepted at `POST /webhooks/github` and the changes of the jobs they
 * started, and does the GitHub side of them from its alarm, retrying until GitHub has answered:
 * permission checks, reactions, jobs, check runs, comments and pull requests (docs/github.md).
 */
import { DurableObject } from 'cloudflare:workers';

export class GitHubAppDO extends DurableObject<Env> {}
