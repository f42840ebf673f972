/**
 * Types of the Omni API, generated from docs/openapi.json by openapi-typescript.
 * Do not edit: run `npm run client:generate`.
 */
export interface paths {
  '/health': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Liveness: answers without touching a dependency */
    get: operations['getHealth'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/health/ready': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Readiness: D1 and Daytona answer, each within its own short timeout */
    get: operations['getReadiness'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Prometheus metrics of every tenant (operators)
     * @description Jobs created, active, finished, errors, durations and sandbox phases, and spend, in the Prometheus text format 0.0.4. Needs the METRICS_TOKEN as a bearer token. See docs/operations.md.
     */
    get: operations['getMetrics'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/jobs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List jobs, newest first */
    get: operations['listJobs'];
    put?: never;
    /**
     * Create a job
     * @description Accepts a job and returns at once; a Job Durable Object runs it in a Daytona sandbox.
     */
    post: operations['createJob'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/jobs/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get a job and its live status
     * @description The answer has an `ETag`; send it back as `If-None-Match` to get a `304` without a body while the job is unchanged (docs/jobs.md#polling).
     */
    get: operations['getJob'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/jobs/{id}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Read a page of the job's event log, or follow it as Server-Sent Events
     * @description Pass the returned next_after as after to read on; it is null once the job ended and every event was read. With `Accept: text/event-stream` the answer is a stream of Server-Sent Events instead: `id:` the seq, `event:` the type, `data:` the event as JSON; it replays the events after `Last-Event-ID` (or `after`), follows live, and ends with an `end` event once the job has ended. A connection lasts at most EVENT_STREAM_MAX_SECONDS (300 s), then the client reconnects with Last-Event-ID (docs/jobs.md#server-sent-events).
     */
    get: operations['listJobEvents'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/jobs/{id}/stream': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Stream the job's events over a WebSocket
     * @description Upgrade to a WebSocket. Each message is one JSON event {seq, type, ts, ...}. Events after `after` are replayed from the log, then new ones follow live; the server closes with 1000 once the job has ended.
     */
    get: operations['streamJobEvents'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/jobs/{id}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Cancel a job
     * @description The job ends as `canceled` and its sandbox is deleted. Canceling a job that has already ended changes nothing and answers 409 with the job as it ended.
     */
    post: operations['cancelJob'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/jobs/{id}/stream-token': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Get a short-lived token for the job's stream
     * @description For clients that cannot set headers on a WebSocket: open the returned url (GET /v1/jobs/{id}/stream?token=…) within a minute. Never put an API key in a URL.
     */
    post: operations['createStreamToken'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List API keys, newest first
     * @description Revoked and expired keys are listed too. Keys themselves are never shown.
     */
    get: operations['listKeys'];
    put?: never;
    /**
     * Create an API key
     * @description The answer is the only time the key is shown. The role may not be stronger than your own.
     */
    post: operations['createKey'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /**
     * Revoke an API key
     * @description The key is refused from now on. Revoking a revoked key changes nothing.
     */
    delete: operations['revokeKey'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/keys/{id}/rotate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Rotate an API key
     * @description Creates a new key with the same name and role, shown once, and makes the old key expire after grace_seconds (0: at once). A revoked, expired or already rotated key cannot be rotated.
     */
    post: operations['rotateKey'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/members': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List members, newest first */
    get: operations['listMembers'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/members/{subject}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Set a member's role
     * @description Adds the member (201) or changes their role (200). A demotion that would leave the tenant without an owner is refused (409).
     */
    put: operations['setMember'];
    post?: never;
    /**
     * Remove a member
     * @description The person keeps only what their JWT's role claim gives them; keys they made stop working. Removing the tenant's last owner is refused (409).
     */
    delete: operations['removeMember'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/projects': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List projects, newest first
     * @description The default project is always among them.
     */
    get: operations['listProjects'];
    put?: never;
    /**
     * Create a project
     * @description Names are unique per tenant. The sandbox settings may not exceed the operator's limits.
     */
    post: operations['createProject'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/projects/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a project */
    get: operations['getProject'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /**
     * Change a project
     * @description Only the fields sent change; monthly_budget_usd: null removes the budget, sandbox: null returns to the defaults. Jobs already created keep the sandbox shape they were created with.
     */
    patch: operations['updateProject'];
    trace?: never;
  };
  '/v1/audit': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List audit entries, newest first
     * @description Who did what, when, from where: key and member changes, job creation and cancels.
     */
    get: operations['listAuditEntries'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tenant/export': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Export everything stored about the tenant
     * @description One JSON document, streamed: the tenant, its API keys (never a key or its hash), members, jobs with their event logs, idempotency keys and audit log, as stored. A download that breaks off midway is not a valid document.
     */
    get: operations['exportTenant'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/tenant': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /**
     * Delete the tenant and everything stored about it
     * @description Send `{ "confirm": "<your tenant id>" }`. Every key is revoked and every member removed at once; running jobs are canceled, their sandboxes deleted, and every row and stored output removed shortly after. One `tenant.delete` audit entry is kept. Asking again while the deletion runs answers the same. It cannot be undone.
     */
    delete: operations['deleteTenant'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/budgets': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Budgets, their spend this month, and the notices
     * @description The tenant's monthly budget and every project budget with this month's spend and what running jobs reserve, and a page of notices (80, 90, 95 and 100 % of a budget, once each per month), newest first.
     */
    get: operations['getBudgets'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/budgets/tenant': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Set the tenant's monthly budget
     * @description Jobs are refused with 402 once the month’s spend plus what running jobs reserve reaches it, and running jobs are stopped once their spend reaches it. null removes the budget.
     */
    put: operations['setTenantBudget'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/usage': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Usage and cost, grouped
     * @description Totals of the cost ledger (jobs created between `from` and `to`, UTC days, at most 366 of them) per project, user, day or model, in key order. `Accept: text/csv` answers the same page as CSV with a header row; its next page is in the `Link` header (rel="next").
     */
    get: operations['getUsage'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/secrets/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Set a secret
     * @description Stores the value encrypted (AES-GCM), creating the secret (201) or replacing its value (200). The answer, like every other, shows the name and dates only. Jobs that already started keep the value they started with.
     */
    put: operations['setSecret'];
    post?: never;
    /**
     * Delete a secret
     * @description A job that refers to it and has not started yet fails with `secret_missing`; a running job keeps the value it started with.
     */
    delete: operations['deleteSecret'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/secrets': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List secrets, newest first
     * @description Names and dates only; values are never shown.
     */
    get: operations['listSecrets'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List webhook subscriptions, newest first */
    get: operations['listWebhooks'];
    put?: never;
    /**
     * Subscribe a URL to events
     * @description Answers with the subscription and its signing secret, which is never shown again. At most 20 subscriptions per tenant.
     */
    post: operations['createWebhook'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a webhook subscription */
    get: operations['getWebhook'];
    put?: never;
    post?: never;
    /**
     * Delete a webhook subscription
     * @description Its pending deliveries are dropped and its delivery history is deleted.
     */
    delete: operations['deleteWebhook'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/{id}/deliveries': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List a subscription's deliveries, newest first */
    get: operations['listWebhookDeliveries'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/webhooks/{id}/deliveries/{delivery}/redeliver': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Send a delivery again
     * @description Queues the delivery again, due now, with a fresh set of retries; the same body, event and delivery id are sent (with a new signature).
     */
    post: operations['redeliverWebhookDelivery'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/me': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The caller: tenant, role and where it comes from */
    get: operations['getMe'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/github/installations/{installation_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get an installation's mapping */
    get: operations['getGitHubInstallation'];
    /**
     * Map a GitHub App installation to a project
     * @description Creates the mapping, or replaces the tenant's own (its settings are replaced whole). Deliveries of the installation then start jobs in the project, as its settings say.
     */
    put: operations['putGitHubInstallation'];
    post?: never;
    /**
     * Remove an installation's mapping
     * @description Its deliveries are then acknowledged and ignored; jobs already started run on. Uninstalling the App is done on GitHub.
     */
    delete: operations['deleteGitHubInstallation'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/github/installations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List the tenant's installations, newest first */
    get: operations['listGitHubInstallations'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/github/deliveries': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List the deliveries of the tenant's installations, newest first
     * @description What Omni did with each delivery GitHub sent and why. Deliveries of installations not mapped to a tenant are in no list.
     */
    get: operations['listGitHubDeliveries'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/webhooks/github': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * The GitHub App's webhook (called by GitHub)
     * @description Signed by GitHub with the webhook secret; no API key. Each X-GitHub-Delivery is handled once (docs/github.md).
     */
    post: operations['receiveGitHubWebhook'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    Problem: {
      /** @example urn:omni:error:invalid_request */
      type: string;
      title: string;
      status: number;
      detail: string;
      /** @enum {string} */
      code:
        | 'invalid_request'
        | 'malformed_json'
        | 'unauthorized'
        | 'forbidden'
        | 'not_found'
        | 'method_not_allowed'
        | 'payload_too_large'
        | 'unsupported_media_type'
        | 'payment_required'
        | 'conflict'
        | 'idempotency_in_flight'
        | 'idempotency_mismatch'
        | 'upgrade_required'
        | 'too_many_requests'
        | 'concurrency_limit'
        | 'internal'
        | 'upstream_error'
        | 'misconfigured'
        | 'not_ready'
        | 'request_timeout';
      instance: string;
      request_id: string;
      errors?: {
        path: string;
        message: string;
      }[];
    };
    Readiness: {
      /** @enum {string} */
      status: 'ready';
      /** @description The deployed git commit (`OMNI_VERSION`), or "dev". */
      version: string;
      /** @description Seconds since this isolate started serving. Workers run in many short-lived isolates: this is the uptime of the one that answered, not of the service. */
      uptime_seconds: number;
      checks: {
        d1: components['schemas']['DependencyCheck'];
        daytona: components['schemas']['DependencyCheck'];
      };
    };
    DependencyCheck: {
      /** @enum {string} */
      status: 'up' | 'down';
      latency_ms: number;
      /** @description What failed, in fixed words; only when down. */
      error?: string;
    };
    NotReady: components['schemas']['Problem'] & {
      /** @description The dependencies that are down. */
      down: ('d1' | 'daytona')[];
      /** @description The deployed git commit (`OMNI_VERSION`), or "dev". */
      version: string;
      /** @description Seconds since this isolate started serving. Workers run in many short-lived isolates: this is the uptime of the one that answered, not of the service. */
      uptime_seconds: number;
      checks: {
        d1: components['schemas']['DependencyCheck'];
        daytona: components['schemas']['DependencyCheck'];
      };
    };
    Job: {
      /** @example job_0f8fad5bd9cb469fa16570867728950e */
      id: string;
      status: components['schemas']['JobStatus'];
      repo: {
        url: string;
        ref: string | null;
      };
      /**
       * @description `command` or `agent`.
       * @enum {string}
       */
      kind: 'command' | 'agent';
      /** @description The shell command; for an agent, the CLI's line. */
      command: string;
      agent?: components['schemas']['AgentJob'];
      /** @description The project the job belongs to. */
      project_id: string | null;
      timeout_seconds: number;
      exit_code: number | null;
      error: {
        code: string;
        message: string;
      } | null;
      /** Format: date-time */
      created_at: string;
      /** Format: date-time */
      provisioning_at: string | null;
      /** Format: date-time */
      cloning_at: string | null;
      /** Format: date-time */
      running_at: string | null;
      /** Format: date-time */
      finished_at: string | null;
      /** @description From creation to the end. */
      duration_ms: number | null;
      env?: components['schemas']['JobEnvVariables'];
      cost: components['schemas']['JobCost'];
      links: {
        self: string;
        events: string;
        stream: string;
      };
    };
    /** @enum {string} */
    JobStatus:
      | 'queued'
      | 'provisioning'
      | 'cloning'
      | 'running'
      | 'succeeded'
      | 'failed'
      | 'timed_out'
      | 'canceled';
    /** @description An agent job read one by one (GET /v1/jobs/{id}, not lists): its agent. */
    AgentJob: {
      prompt: string;
      model: string | null;
      max_turns: number | null;
      allowed_tools: string[] | null;
      max_budget_usd: number | null;
      session_id: string | null;
      /** @description The agent's final text (at most 64 KiB), once it ended. */
      result: string | null;
      /** @description The CLI's own report of how the run ended. */
      outcome: {
        subtype: string;
        is_error: boolean;
        terminal_reason: string | null;
        num_turns: number | null;
        duration_ms: number | null;
        total_cost_usd: number | null;
        permission_denials: number;
      } | null;
      /** @description Tokens per model: an estimate while the agent runs, what the CLI reported at the end. */
      usage: {
        [key: string]: {
          input_tokens: number;
          output_tokens: number;
          cache_read_tokens: number;
          cache_write_tokens: number;
          reported_cost_usd: number;
        };
      };
    };
    /** @description The variables of the job's env, by name. Values are never shown, not even literal ones; a variable from a secret names the secret. Present when the job is read one at a time (not in lists). */
    JobEnvVariables: {
      name: string;
      /** @description The secret it comes from; null for a literal value. */
      secret: string | null;
    }[];
    /** @description What the job has cost so far (live while it runs when read one by one; lists show the ledger as last written). */
    JobCost: {
      /** @description US dollars. */
      total_usd: number;
      /** @description The agent's tokens, at the configured prices. */
      llm_usd: number;
      /** @description The sandbox's time from create to delete. */
      sandbox_usd: number;
      /** @description What the agent CLI itself reported for its tokens, for comparison. */
      reported_llm_usd: number;
      input_tokens: number;
      output_tokens: number;
      cache_write_tokens: number;
      cache_read_tokens: number;
      sandbox_seconds: number;
      /** @description The id of the price table used (docs/cost.md). */
      price_table: string | null;
    };
    CreateJob: {
      repo: {
        /** @example https://github.com/octocat/Hello-World.git */
        url: string;
        /** @example main */
        ref?: string;
      };
      /**
       * @description Shell command run in the repository checkout (or give `agent`).
       * @example ls -la
       */
      command?: string;
      agent?: components['schemas']['AgentSpec'];
      /** @description Wall-clock limit; defaults to the service setting. */
      timeout_seconds?: number;
      /**
       * @description The id of the project the job belongs to (its repository allow-list, sandbox shape and budget); default: the tenant's default project.
       * @example prj_5f0c6b1e2a8d4c3b9e7f1a2b3c4d5e6f
       */
      project?: string;
      /** @description If the tenant already runs its maximum of jobs: wait for a free slot (true) instead of being refused with 429 (false, the default). The time limit counts from creation. */
      queue?: boolean;
      env?: components['schemas']['JobEnv'];
    };
    /** @description Run a coding agent (Claude Code) in the checkout instead of a command (docs/agents.md). */
    AgentSpec: {
      /**
       * @description What the agent is asked to do. It reaches the CLI as an environment variable, never through a shell.
       * @example Run the tests and fix the first failure.
       */
      prompt: string;
      /**
       * @description A model name or alias; default: the CLI's.
       * @example sonnet
       */
      model?: string;
      /** @description The most turns the agent may take. */
      max_turns?: number;
      /**
       * @description The only tools the agent may use (e.g. "Read", "Bash(npm test)"); every other tool call is denied. Default: every tool, without asking.
       * @example [
       *       "Read",
       *       "Edit",
       *       "Bash(npm test)"
       *     ]
       */
      allowed_tools?: string[];
      /** @description The most the agent may spend on API calls, in USD: the CLI stops there, and Omni stops the job once its whole cost (tokens at the configured prices and sandbox time) reaches it. */
      max_budget_usd?: number;
    };
    /**
     * @description Environment variables of the command: name → a literal value (at most 16384 bytes) or { "secret": "NAME" }. At most 64; names like shell variables (A-Z, 0-9, _), none starting with OMNI_. Values reach the command's environment, never its text; secret values are masked (***) in the output (docs/secrets.md).
     * @example {
     *       "LOG_LEVEL": "debug",
     *       "GITHUB_TOKEN": {
     *         "secret": "GITHUB_TOKEN"
     *       }
     *     }
     */
    JobEnv: {
      [key: string]:
        | string
        | {
            /** @example GITHUB_TOKEN */
            secret: string;
          };
    };
    JobList: {
      data: components['schemas']['Job'][];
      next_cursor: string | null;
    };
    JobEventPage: {
      data: components['schemas']['JobEvent'][];
      next_after: number | null;
    };
    /** @description One entry of the job log. `status` carries `status` (and `error`), `stdout`/`stderr` carry `data`, `exit` carries `exit_code`, `agent` carries `agent`: one typed event of an agent job (`kind`: session_start, text, tool_call, tool_result, api_retry, result, other; docs/agents.md). */
    JobEvent: {
      seq: number;
      /** @enum {string} */
      type: 'status' | 'stdout' | 'stderr' | 'exit' | 'truncated' | 'agent';
      /** Format: date-time */
      ts: string;
      agent?: components['schemas']['AgentEvent'];
    } & {
      [key: string]: unknown;
    };
    /** @description One typed event of an agent job, parsed from its CLI output next to the raw `stdout` (fields per `kind`: docs/agents.md#events). */
    AgentEvent: {
      /** @enum {string} */
      kind:
        'session_start' | 'text' | 'tool_call' | 'tool_result' | 'api_retry' | 'result' | 'other';
    } & {
      [key: string]: unknown;
    };
    /**
     * @description Server-Sent Events: `retry: 1000`, then one event per job event (`id: <seq>`, `event: <type>`, `data: <JobEvent as JSON>`), `: heartbeat` comments every 15 s, and a last `event: end` once the job has ended (or `event: revoked` when the credentials were revoked).
     * @example retry: 1000
     *
     *     id: 1
     *     event: status
     *     data: {"status":"queued","seq":1,"type":"status","ts":"2026-12-01T12:00:00.000Z"}
     */
    JobEventStream: string;
    StreamToken: {
      token: string;
      /** Format: date-time */
      expires_at: string;
      /** @description The stream path with the token, ready to open. */
      url: string;
    };
    CreatedKey: {
      id: string;
      name: string;
      prefix: string;
      role: components['schemas']['Role'];
      /** @description Derived from the role: viewer: jobs:read; member: jobs:read, jobs:write; admin: jobs:read, jobs:write, keys:manage, audit:read, members:read; owner: jobs:read, jobs:write, keys:manage, audit:read, members:read, members:manage. */
      scopes: (
        | 'jobs:read'
        | 'jobs:write'
        | 'keys:manage'
        | 'audit:read'
        | 'members:read'
        | 'members:manage'
      )[];
      /** Format: date-time */
      created_at: string;
      /**
       * @description The key itself. It is shown only here, once: store it now.
       * @example omni_Ab3dE6gHiJkLmNoPqRsTuVwXyZ012345Ab3dE6
       */
      key: string;
    };
    /**
     * @description Weakest first: viewer < member < admin < owner.
     * @enum {string}
     */
    Role: 'viewer' | 'member' | 'admin' | 'owner';
    CreateKey: {
      /** @example ci */
      name: string;
      role: components['schemas']['Role'];
    };
    KeyList: {
      data: components['schemas']['ApiKey'][];
      /** @description Pass as cursor to get the next page; null on the last page. */
      next_cursor: string | null;
    };
    ApiKey: {
      /** @example key_5f0c6b1e2a8d4c3b9e7f1a2b3c4d5e6f */
      id: string;
      name: string;
      /**
       * @description The first characters of the key, to recognise it; never enough to use it.
       * @example omni_Ab3dE6g
       */
      prefix: string;
      role: components['schemas']['Role'];
      effective_role: components['schemas']['Role'] & (string | null);
      /** @description Derived from the role: viewer: jobs:read; member: jobs:read, jobs:write; admin: jobs:read, jobs:write, keys:manage, audit:read, members:read; owner: jobs:read, jobs:write, keys:manage, audit:read, members:read, members:manage. */
      scopes: (
        | 'jobs:read'
        | 'jobs:write'
        | 'keys:manage'
        | 'audit:read'
        | 'members:read'
        | 'members:manage'
      )[];
      /** Format: date-time */
      created_at: string;
      /** @description Who made the key: `key:<id>`, `user:<subject>` or `cli:<user>`; it caps the key. */
      created_by: string | null;
      /**
       * Format: date-time
       * @description Updated at most once a minute.
       */
      last_used_at: string | null;
      /**
       * Format: date-time
       * @description Set when the key was rotated.
       */
      expires_at: string | null;
      /** Format: date-time */
      revoked_at: string | null;
    };
    RotatedKey: components['schemas']['CreatedKey'] & {
      /** @description The old key and when it stops working. */
      replaced: {
        id: string;
        /** Format: date-time */
        expires_at: string;
      };
    };
    RotateKey: {
      /**
       * @description How long the old key keeps working, in seconds; 0 (the default) refuses it at once.
       * @default 0
       */
      grace_seconds: number;
    };
    MemberList: {
      data: components['schemas']['Member'][];
      /** @description Pass as cursor to get the next page; null on the last page. */
      next_cursor: string | null;
    };
    Member: {
      /** @description The `sub` claim of the person’s JWTs. */
      subject: string;
      role: components['schemas']['Role'];
      /** Format: date-time */
      created_at: string;
      /** Format: date-time */
      updated_at: string;
    };
    PutMember: {
      role: components['schemas']['Role'];
    };
    Project: {
      /** @example prj_5f0c6b1e2a8d4c3b9e7f1a2b3c4d5e6f */
      id: string;
      name: string;
      /** @description The project of jobs that name none. Every tenant has exactly one. */
      is_default: boolean;
      monthly_budget_usd: number | null;
      repo_allow_list: string[];
      sandbox: components['schemas']['ProjectSandbox'];
      sandbox_effective: components['schemas']['SandboxShape'];
      /** Format: date-time */
      created_at: string;
      /** Format: date-time */
      updated_at: string;
    };
    /** @description What the project sets. */
    ProjectSandbox: {
      /** @description vCPUs. */
      cpu?: number;
      /** @description Memory in GiB. */
      memory_gib?: number;
      /** @description Disk in GiB. */
      disk_gib?: number;
      /** @description Minutes without activity after which Daytona stops the sandbox. */
      auto_stop_minutes?: number;
      /** @description Minutes after a stop after which Daytona deletes the sandbox; 0: at once. */
      auto_delete_minutes?: number;
      network?: components['schemas']['NetworkPolicy'];
    };
    /**
     * @description "open" (no restriction), "block_all" (no network at all, which also stops the clone), or { "allow_list": [IPv4 CIDRs] } (at most 10, Daytona's limit): only those networks are reachable.
     * @example {
     *       "allow_list": [
     *         "140.82.112.0/20"
     *       ]
     *     }
     */
    NetworkPolicy:
      | 'open'
      | 'block_all'
      | {
          allow_list: string[];
        };
    /** @description What a job of the project created now gets: the project's settings and the operator's defaults. */
    SandboxShape: {
      cpu: number;
      memory_gib: number;
      disk_gib: number;
      auto_stop_minutes: number;
      auto_delete_minutes: number;
      network: components['schemas']['NetworkPolicy'];
    };
    CreateProject: {
      /** @example web */
      name: string;
      /**
       * @description US dollars per calendar month (UTC); null: no project budget.
       * @example 250
       */
      monthly_budget_usd?: number | null;
      /**
       * @description Repository URL prefixes the project's jobs may clone (at most 50); empty: every repository the service allows. A prefix matches a URL equal to it, or continuing it after a "/".
       * @example [
       *       "https://github.com/acme/"
       *     ]
       */
      repo_allow_list?: string[];
      sandbox?: components['schemas']['ProjectSandbox'] & unknown;
    };
    ProjectList: {
      data: components['schemas']['Project'][];
      /** @description Pass as cursor to get the next page; null on the last page. */
      next_cursor: string | null;
    };
    UpdateProject: {
      /** @example web */
      name?: string;
      /**
       * @description US dollars per calendar month (UTC); null: no project budget.
       * @example 250
       */
      monthly_budget_usd?: number | null;
      /**
       * @description Repository URL prefixes the project's jobs may clone (at most 50); empty: every repository the service allows. A prefix matches a URL equal to it, or continuing it after a "/".
       * @example [
       *       "https://github.com/acme/"
       *     ]
       */
      repo_allow_list?: string[];
      /** @description Replaces the project's sandbox settings as a whole; null: the defaults. */
      sandbox?: {
        /** @description vCPUs. */
        cpu?: number;
        /** @description Memory in GiB. */
        memory_gib?: number;
        /** @description Disk in GiB. */
        disk_gib?: number;
        /** @description Minutes without activity after which Daytona stops the sandbox. */
        auto_stop_minutes?: number;
        /** @description Minutes after a stop after which Daytona deletes the sandbox; 0: at once. */
        auto_delete_minutes?: number;
        network?: components['schemas']['NetworkPolicy'];
      } | null;
    };
    AuditList: {
      data: components['schemas']['AuditEntry'][];
      /** @description Pass as cursor to get the next page; null on the last page. */
      next_cursor: string | null;
    };
    AuditEntry: {
      id: string;
      /** Format: date-time */
      time: string;
      /** @description `key:<key id>` or `user:<subject>`. */
      actor: string;
      /** @example key.create */
      action: string;
      /** @description What was acted on: a key, member or job. */
      target: string | null;
      /** @description The id the server gave the request that did it (its X-Request-Id). */
      request_id: string;
      ip: string | null;
      /** @description Action-specific; never a secret. */
      details: {
        [key: string]: unknown;
      };
    };
    /**
     * @description Only entries of this action.
     * @enum {string}
     */
    AuditAction:
      | 'key.create'
      | 'key.rotate'
      | 'key.revoke'
      | 'member.role_change'
      | 'member.remove'
      | 'job.create'
      | 'job.cancel'
      | 'tenant.export'
      | 'tenant.delete'
      | 'project.create'
      | 'project.update'
      | 'secret.put'
      | 'secret.delete'
      | 'budget.set'
      | 'webhook.create'
      | 'webhook.delete'
      | 'webhook.redeliver'
      | 'github.installation.put'
      | 'github.installation.delete'
      | 'github.installation.suspend'
      | 'github.installation.unsuspend';
    TenantExport: {
      /** @enum {string} */
      format: 'omni.tenant-export/1';
      /** Format: date-time */
      exported_at: string;
      /** @description The tenant row. */
      tenant: {
        [key: string]: unknown;
      };
      /** @description Every key, revoked and expired ones too; never the key or its hash. */
      api_keys: {
        [key: string]: unknown;
      }[];
      memberships: {
        [key: string]: unknown;
      }[];
      /** @description Every project with its budget, repository allow-list and sandbox settings (JSON). */
      projects: {
        [key: string]: unknown;
      }[];
      /** @description Each job's row with its stored event log (status changes, output, exit). */
      jobs: ({
        [key: string]: unknown;
      } & {
        events: ({
          seq: number;
          type: string;
          /** Format: date-time */
          ts: string;
        } & {
          [key: string]: unknown;
        })[];
      })[];
      idempotency_keys: {
        [key: string]: unknown;
      }[];
      /** @description The cost ledger: each job's lines (tokens per model, sandbox time), in micro USD. */
      usage_ledger: {
        [key: string]: unknown;
      }[];
      /** @description Newest first. */
      budget_notices: {
        [key: string]: unknown;
      }[];
      tenant_budget: {
        monthly_budget_micro_usd: number | null;
      };
      /** @description Newest first. */
      audit_log: {
        [key: string]: unknown;
      }[];
    };
    TenantDeletion: {
      /** @enum {string} */
      status: 'deleting';
      tenant_id: string;
      /**
       * Format: date-time
       * @description When the deletion was first asked for; a repeat changes nothing.
       */
      requested_at: string;
    };
    DeleteTenant: {
      /**
       * @description The id of your tenant, to confirm that it is meant to be deleted.
       * @example ten_acme
       */
      confirm?: string;
    };
    Budgets: {
      /**
       * @description The current month, UTC.
       * @example 2026-12
       */
      month: string;
      /** @description The tenant's budget (if set) and every project budget, this month. */
      budgets: components['schemas']['Budget'][];
      /** @description A page of notices, newest first. */
      notices: components['schemas']['BudgetNotice'][];
      /** @description Pass as cursor to get the next page; null on the last page. */
      next_cursor: string | null;
    };
    Budget: {
      /** @enum {string} */
      scope: 'tenant' | 'project';
      /** @description The tenant id, or the project id. */
      id: string;
      /** @description The project's name; null for the tenant. */
      name: string | null;
      /** @description The monthly budget. */
      limit_usd: number;
      /** @description What jobs created this month (UTC) have cost so far, running ones included. */
      spend_usd: number;
      /** @description What running jobs still hold in reserve beyond what they have spent. */
      reserved_usd: number;
    };
    BudgetNotice: {
      /** @enum {string} */
      scope: 'tenant' | 'project';
      id: string;
      /** @example 2026-12 */
      month: string;
      /** @description Percent of the budget: 80, 90, 95 or 100. */
      threshold: number;
      /** @description US dollars. */
      spend_usd: number;
      /** @description US dollars. */
      limit_usd: number;
      /** Format: date-time */
      created_at: string;
    };
    TenantBudget: {
      /** @description US dollars. */
      monthly_budget_usd: number | null;
      month: string;
      /** @description US dollars. */
      spend_usd: number;
      /** @description US dollars. */
      reserved_usd: number;
    };
    PutTenantBudget: {
      /**
       * @description The tenant's monthly budget in USD; null removes it.
       * @example 500
       */
      monthly_budget_usd: number | null;
    };
    UsageReport: {
      from: string;
      to: string;
      /** @enum {string} */
      group_by: 'project' | 'user' | 'day' | 'model';
      data: components['schemas']['UsageGroup'][];
      totals: components['schemas']['UsageTotals'];
      /** @description Pass as cursor to get the next page; null on the last page. */
      next_cursor: string | null;
    };
    UsageGroup: {
      /** @description The project id, user, day or model of the group; null: no project or user. */
      key: string | null;
      /** @description US dollars. */
      cost_usd: number;
      /** @description US dollars. */
      llm_usd: number;
      /** @description US dollars. */
      sandbox_usd: number;
      /** @description What the agent CLI itself reported. */
      reported_llm_usd: number;
      input_tokens: number;
      output_tokens: number;
      cache_write_tokens: number;
      cache_read_tokens: number;
      sandbox_seconds: number;
      vcpu_seconds: number;
      /** @description GiB-seconds of memory. */
      gib_seconds: number;
      jobs: number;
    };
    /** @description The whole range, every group. */
    UsageTotals: {
      /** @description US dollars. */
      cost_usd: number;
      /** @description US dollars. */
      llm_usd: number;
      /** @description US dollars. */
      sandbox_usd: number;
      /** @description What the agent CLI itself reported. */
      reported_llm_usd: number;
      input_tokens: number;
      output_tokens: number;
      cache_write_tokens: number;
      cache_read_tokens: number;
      sandbox_seconds: number;
      vcpu_seconds: number;
      /** @description GiB-seconds of memory. */
      gib_seconds: number;
      jobs: number;
    };
    /** @description A secret: its name and dates. The value is never shown. */
    Secret: {
      /** @example GITHUB_TOKEN */
      name: string;
      /** Format: date-time */
      created_at: string;
      /**
       * Format: date-time
       * @description When the value was last set.
       */
      updated_at: string;
      /** @description The actor that created it. */
      created_by: string | null;
    };
    PutSecret: {
      /**
       * @description The secret, up to 65536 bytes of UTF-8. Stored encrypted; never shown again.
       * @example ghp_…
       */
      value: string;
    };
    SecretList: {
      data: components['schemas']['Secret'][];
      /** @description Pass as cursor to get the next page; null on the last page. */
      next_cursor: string | null;
    };
    CreatedWebhook: components['schemas']['Webhook'] & {
      /** @description The signing secret (whsec_…). Shown only in this answer: store it now. */
      secret: string;
    };
    Webhook: {
      /** @example wh_0123456789abcdef0123456789abcdef */
      id: string;
      url: string;
      events: (
        | 'job.started'
        | 'job.succeeded'
        | 'job.failed'
        | 'job.canceled'
        | 'job.timed_out'
        | 'budget.threshold'
      )[];
      description: string | null;
      /** Format: date-time */
      created_at: string;
      created_by: string | null;
      /**
       * Format: date-time
       * @description Set when the receiver answered 410 Gone: nothing more is sent.
       */
      disabled_at: string | null;
    };
    CreateWebhook: {
      /**
       * Format: uri
       * @description Where deliveries are POSTed: https, a public host (no private, loopback, link-local or metadata address).
       * @example https://hooks.example.com/omni
       */
      url: string;
      /**
       * @example [
       *       "job.succeeded",
       *       "job.failed"
       *     ]
       */
      events: (
        | 'job.started'
        | 'job.succeeded'
        | 'job.failed'
        | 'job.canceled'
        | 'job.timed_out'
        | 'budget.threshold'
      )[];
      description?: string;
    };
    WebhookList: {
      data: components['schemas']['Webhook'][];
      /** @description Pass as cursor to get the next page; null on the last page. */
      next_cursor: string | null;
    };
    WebhookDeliveryList: {
      data: components['schemas']['WebhookDelivery'][];
      /** @description Pass as cursor to get the next page; null on the last page. */
      next_cursor: string | null;
    };
    WebhookDelivery: {
      id: string;
      subscription_id: string;
      event_id: string;
      /** @enum {string} */
      event:
        | 'job.started'
        | 'job.succeeded'
        | 'job.failed'
        | 'job.canceled'
        | 'job.timed_out'
        | 'budget.threshold';
      /** @enum {string} */
      status: 'pending' | 'delivered' | 'failed';
      attempts: number;
      last_status_code: number | null;
      last_error: string | null;
      /** Format: date-time */
      last_attempt_at: string | null;
      /** Format: date-time */
      next_attempt_at: string | null;
      /** Format: date-time */
      created_at: string;
      /** @description The body that is sent, parsed. */
      payload?: unknown;
      /** @description The latest attempts, oldest first (at most 30). */
      attempt_log: {
        /** Format: date-time */
        at: string;
        status_code: number | null;
        error: string | null;
        duration_ms: number;
      }[];
    };
    Me: {
      tenant_id: string;
      /**
       * @description What the credentials may do, weakest of their grants.
       * @enum {string}
       */
      role: 'viewer' | 'member' | 'admin' | 'owner';
      /**
       * @description How the audit log names the caller: `key:<id>` or `user:<subject>`.
       * @example key:key_0123456789abcdef0123456789abcdef
       */
      actor: string;
      /** @description The API key used, if one was. */
      key_id: string | null;
      /**
       * @description Where the role comes from: an API key, a membership, or a JWT's role claim (which only the identity provider can take back).
       * @enum {string}
       */
      grant: 'key' | 'member' | 'claim';
    };
    GitHubInstallation: {
      /** @example 12345678 */
      installation_id: number;
      project_id: string;
      account_login: string | null;
      settings: {
        triggers?: components['schemas']['GitHubTriggers'];
        agent?: components['schemas']['GitHubAgentOptions'];
        /**
         * @description When an agent job changed files, push them to a new branch and open a pull request.
         * @default true
         */
        open_pull_requests: boolean;
      };
      /** Format: date-time */
      created_at: string;
      created_by: string | null;
      /** Format: date-time */
      updated_at: string;
    };
    /**
     * @default {
     *       "command": true,
     *       "mention": true,
     *       "labels": [],
     *       "pull_request_review": false
     *     }
     */
    GitHubTriggers: {
      /**
       * @description A comment on an issue or pull request that starts with `/omni <prompt>`.
       * @default true
       */
      command: boolean;
      /**
       * @description A comment that mentions the App's handle (`@<slug> <prompt>`).
       * @default true
       */
      mention: boolean;
      /**
       * @description Adding one of these labels to an issue starts a job; the issue's title and body are the prompt.
       * @default []
       * @example [
       *       "omni"
       *     ]
       */
      labels: string[];
      /**
       * @description Review every pull request when it is opened or gets new commits.
       * @default false
       */
      pull_request_review: boolean;
    };
    /** @default {} */
    GitHubAgentOptions: {
      model?: string;
      max_turns?: number;
      max_budget_usd?: number;
      timeout_seconds?: number;
    };
    PutGitHubInstallation: {
      /**
       * @description The project whose jobs the installation starts; default: the tenant's default project.
       * @example prj_0123456789abcdef0123456789abcdef
       */
      project_id?: string;
      /**
       * @description The account the App is installed on, for display.
       * @example acme
       */
      account_login?: string;
      /** @description Triggers and agent options; omitted: the defaults (command and mention on). */
      settings?: {
        triggers?: components['schemas']['GitHubTriggers'];
        agent?: components['schemas']['GitHubAgentOptions'];
        /**
         * @description When an agent job changed files, push them to a new branch and open a pull request.
         * @default true
         */
        open_pull_requests: boolean;
      };
    };
    GitHubInstallationList: {
      data: components['schemas']['GitHubInstallation'][];
      /** @description Pass as cursor to get the next page; null on the last page. */
      next_cursor: string | null;
    };
    GitHubDeliveryList: {
      data: components['schemas']['GitHubDelivery'][];
      /** @description Pass as cursor to get the next page; null on the last page. */
      next_cursor: string | null;
    };
    GitHubDelivery: {
      /** @description The X-GitHub-Delivery of the delivery. */
      id: string;
      /** @example issue_comment */
      event: string;
      /** @example created */
      action: string | null;
      installation_id: number | null;
      /** @example acme/app */
      repository: string | null;
      sender: string | null;
      /**
       * @description accepted: handed over to start a job; job_created: the job was created; ignored: not a trigger (see reason); invalid: the payload failed validation; failed: it could not be handed over (a redelivery is handled again).
       * @enum {string}
       */
      outcome: 'accepted' | 'job_created' | 'ignored' | 'invalid' | 'failed';
      reason: string | null;
      job_id: string | null;
      /** Format: date-time */
      received_at: string;
      /** Format: date-time */
      updated_at: string;
    };
    GitHubDeliveryAnswer: {
      /** @description X-GitHub-Delivery, as received. */
      delivery_id: string;
      /**
       * @description accepted: handed to the installation (202); ignored: nothing to do, see reason; duplicate: this delivery was already handled.
       * @enum {string}
       */
      outcome: 'accepted' | 'ignored' | 'duplicate';
      reason?: string | null;
      /** @enum {string} */
      trigger?: 'command' | 'mention' | 'label' | 'pull_request' | 'rerequest';
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  getHealth: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Alive */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {string} */
            status: 'ok';
          };
        };
      };
      /** @description Body too large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  getReadiness: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Ready */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Readiness'];
        };
      };
      /** @description Too many requests from this address */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description A dependency is down or did not answer in time */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['NotReady'];
        };
      };
    };
  };
  getMetrics: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The metrics */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain; version=0.0.4': string;
        };
      };
      /** @description No valid metrics token */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description D1 did not answer */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description METRICS_TOKEN is not configured */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listJobs: {
    parameters: {
      query?: {
        limit?: number;
        cursor?: string;
        status?: components['schemas']['JobStatus'];
        /** @description Only the jobs of this project (an id). */
        project?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of jobs */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['JobList'];
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  createJob: {
    parameters: {
      query?: never;
      header?: {
        /** @description Makes creation safe to retry: the same key and body within 24 hours return the original job (with Idempotent-Replayed: true); the same key with another body is 422; a retry while the first request is in flight is 409. */
        'idempotency-key'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CreateJob'];
      };
    };
    responses: {
      /** @description Accepted */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      /** @description Invalid body */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The tenant's or the project's monthly budget is reached */
      402: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description A request with this Idempotency-Key is in flight */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Body too large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Idempotency-Key reused with another body */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Rate limit, or the tenant runs its maximum of jobs */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Service misconfigured */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  getJob: {
    parameters: {
      query?: never;
      header?: {
        /** @description The ETag of a previous answer (or a list of them, or `*`): unchanged, the answer is 304 without a body. */
        'if-none-match'?: string;
      };
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The job */
      200: {
        headers: {
          /** @description A weak tag of the JSON answer; send it as If-None-Match to revalidate. */
          ETag: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      /** @description Not modified: the job is as the `If-None-Match` tag says */
      304: {
        headers: {
          /** @description A weak tag of the JSON answer; send it as If-None-Match to revalidate. */
          ETag: string;
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such job */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listJobEvents: {
    parameters: {
      query?: {
        after?: number | null;
        limit?: number;
      };
      header?: {
        /** @description Event stream only: the seq of the last event received; the stream resumes after it (and wins over `after`). */
        'last-event-id'?: string;
      };
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Events */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['JobEventPage'];
          'text/event-stream': components['schemas']['JobEventStream'];
        };
      };
      /** @description Event stream only: the job has ended and every event after Last-Event-ID was sent; nothing more will come */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Invalid query or Last-Event-ID */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such job */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Event stream only: the job has JOB_MAX_WATCHERS watchers already */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  streamJobEvents: {
    parameters: {
      query?: {
        after?: number | null;
        /** @description A stream token from POST /v1/jobs/{id}/stream-token, for clients that cannot send headers. */
        token?: string;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Switching to the WebSocket protocol */
      101: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such job */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Not a WebSocket upgrade */
      426: {
        headers: {
          Upgrade: 'websocket';
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The job has JOB_MAX_WATCHERS watchers already */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Another error, e.g. 400 for an invalid `after` */
      default: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  cancelJob: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': Record<string, never>;
      };
    };
    responses: {
      /** @description Canceled */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Job'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such job */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The job had already ended */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  createStreamToken: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': Record<string, never>;
      };
    };
    responses: {
      /** @description A token */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['StreamToken'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such job */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description STREAM_TOKEN_SECRET is not configured */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listKeys: {
    parameters: {
      query?: {
        /** @description Rows per page, 1 to 100. */
        limit?: number;
        /** @description The next_cursor of the previous page; omit for the first page. */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of keys */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['KeyList'];
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  createKey: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CreateKey'];
      };
    };
    responses: {
      /** @description Created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CreatedKey'];
        };
      };
      /** @description Invalid body */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak, or a role stronger than your own was asked for */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  revokeKey: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Revoked */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak for this key */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such key */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  rotateKey: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['RotateKey'];
      };
    };
    responses: {
      /** @description The new key */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RotatedKey'];
        };
      };
      /** @description Invalid body */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak for this key */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such key */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The key is revoked, expired or already rotated */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listMembers: {
    parameters: {
      query?: {
        /** @description Rows per page, 1 to 100. */
        limit?: number;
        /** @description The next_cursor of the previous page; omit for the first page. */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of members */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MemberList'];
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  setMember: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        subject: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['PutMember'];
      };
    };
    responses: {
      /** @description Changed */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Member'];
        };
      };
      /** @description Added */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Member'];
        };
      };
      /** @description Invalid body */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Only owners manage members */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The tenant would be left without an owner */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  removeMember: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        subject: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Removed */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Only owners manage members */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such member */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The tenant would be left without an owner */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listProjects: {
    parameters: {
      query?: {
        /** @description Rows per page, 1 to 100. */
        limit?: number;
        /** @description The next_cursor of the previous page; omit for the first page. */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of projects */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ProjectList'];
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Service misconfigured */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  createProject: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CreateProject'];
      };
    };
    responses: {
      /** @description Created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Project'];
        };
      };
      /** @description Invalid body, or a sandbox setting above its limit */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The name is taken */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Service misconfigured */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  getProject: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The project */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Project'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such project */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Service misconfigured */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  updateProject: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['UpdateProject'];
      };
    };
    responses: {
      /** @description The project */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Project'];
        };
      };
      /** @description Invalid body, or a sandbox setting above its limit */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such project */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The name is taken */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Service misconfigured */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listAuditEntries: {
    parameters: {
      query?: {
        /** @description Rows per page, 1 to 100. */
        limit?: number;
        /** @description The next_cursor of the previous page; omit for the first page. */
        cursor?: string;
        /** @description Only entries of this action. */
        action?: components['schemas']['AuditAction'];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of audit entries */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AuditList'];
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  exportTenant: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The export, as an attachment */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TenantExport'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Only owners may export the tenant */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  deleteTenant: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['DeleteTenant'];
      };
    };
    responses: {
      /** @description The deletion has begun: no credential of the tenant works from now on */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TenantDeletion'];
        };
      };
      /** @description No confirmation, or not the tenant id */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Only owners may delete the tenant */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  getBudgets: {
    parameters: {
      query?: {
        /** @description Rows per page, 1 to 100. */
        limit?: number;
        /** @description The next_cursor of the previous page; omit for the first page. */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Budgets */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Budgets'];
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  setTenantBudget: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['PutTenantBudget'];
      };
    };
    responses: {
      /** @description The budget as set */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TenantBudget'];
        };
      };
      /** @description Invalid body */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Only owners set the tenant budget */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  getUsage: {
    parameters: {
      query?: {
        /** @description First UTC day, included (default: the first day of this month). */
        from?: string;
        /** @description Last UTC day, included (default: today). */
        to?: string;
        /** @description `project` (id), `user` (who created the job), `day` (the UTC day the job was created) or `model` (sandbox time under `(sandbox)`). */
        group_by?: 'project' | 'user' | 'day' | 'model';
        /** @description Groups per page, 1 to 1000. */
        limit?: number;
        /** @description The next_cursor of the previous page (or follow the Link header). */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of the report */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['UsageReport'];
          'text/csv': string;
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  setSecret: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        name: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['PutSecret'];
      };
    };
    responses: {
      /** @description Replaced */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Secret'];
        };
      };
      /** @description Created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Secret'];
        };
      };
      /** @description Invalid name or value */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Body too large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description SECRETS_KEYS or SECRETS_KEY_ID is not configured */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  deleteSecret: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        name: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such secret */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listSecrets: {
    parameters: {
      query?: {
        /** @description Rows per page, 1 to 100. */
        limit?: number;
        /** @description The next_cursor of the previous page; omit for the first page. */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of secrets */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SecretList'];
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listWebhooks: {
    parameters: {
      query?: {
        /** @description Rows per page, 1 to 100. */
        limit?: number;
        /** @description The next_cursor of the previous page; omit for the first page. */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of subscriptions */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['WebhookList'];
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  createWebhook: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CreateWebhook'];
      };
    };
    responses: {
      /** @description Created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CreatedWebhook'];
        };
      };
      /** @description Invalid URL or events */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The tenant has the most subscriptions it may have */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description SECRETS_KEYS or SECRETS_KEY_ID is not configured */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  getWebhook: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The subscription */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Webhook'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such subscription */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  deleteWebhook: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such subscription */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listWebhookDeliveries: {
    parameters: {
      query?: {
        /** @description Rows per page, 1 to 100. */
        limit?: number;
        /** @description The next_cursor of the previous page; omit for the first page. */
        cursor?: string;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of deliveries */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['WebhookDeliveryList'];
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such subscription */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  redeliverWebhookDelivery: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
        delivery: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': Record<string, never>;
      };
    };
    responses: {
      /** @description Queued */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['WebhookDelivery'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No such subscription or delivery */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The subscription is disabled */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  getMe: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The caller */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Me'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  getGitHubInstallation: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The App installation's id, as GitHub shows it (…/settings/installations/<id>). */
        installation_id: number;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The mapping */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GitHubInstallation'];
        };
      };
      /** @description Invalid installation id */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The installation is not mapped to this tenant */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  putGitHubInstallation: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The App installation's id, as GitHub shows it (…/settings/installations/<id>). */
        installation_id: number;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['PutGitHubInstallation'];
      };
    };
    responses: {
      /** @description Replaced */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GitHubInstallation'];
        };
      };
      /** @description Created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GitHubInstallation'];
        };
      };
      /** @description Invalid body, or no such project */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Another tenant has mapped this installation */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  deleteGitHubInstallation: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The App installation's id, as GitHub shows it (…/settings/installations/<id>). */
        installation_id: number;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Removed */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Invalid installation id */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description The installation is not mapped to this tenant */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listGitHubInstallations: {
    parameters: {
      query?: {
        /** @description Rows per page, 1 to 100. */
        limit?: number;
        /** @description The next_cursor of the previous page; omit for the first page. */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of installations */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GitHubInstallationList'];
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listGitHubDeliveries: {
    parameters: {
      query?: {
        /** @description Rows per page, 1 to 100. */
        limit?: number;
        /** @description The next_cursor of the previous page; omit for the first page. */
        cursor?: string;
        /** @description Only deliveries of this outcome. */
        outcome?: 'accepted' | 'job_created' | 'ignored' | 'invalid' | 'failed';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of deliveries */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GitHubDeliveryList'];
        };
      };
      /** @description Invalid query */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No valid credentials */
      401: {
        headers: {
          /** @description RFC 6750 §3: `Bearer realm="omni"`, plus `error="invalid_token"` and an `error_description` when a credential was sent and refused. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Role too weak */
      403: {
        headers: {
          /** @description RFC 6750 §3.1: `Bearer realm="omni", error="insufficient_scope"` and an `error_description`. */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  receiveGitHubWebhook: {
    parameters: {
      query?: never;
      header: {
        'x-hub-signature-256': string;
        'x-github-event': string;
        'x-github-delivery': string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          [key: string]: unknown;
        };
      };
    };
    responses: {
      /** @description Ignored, or already handled */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GitHubDeliveryAnswer'];
        };
      };
      /** @description Accepted: handed to the installation */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['GitHubDeliveryAnswer'];
        };
      };
      /** @description A header is missing, or the payload is not what its event sends */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description X-Hub-Signature-256 is missing or does not match */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Body too large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Too many requests from this address */
      429: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description No webhook secret is set, or the delivery could not be taken on now */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
}
