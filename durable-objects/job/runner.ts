/**
 * The job's work in its Daytona sandbox: provision, clone, start the command, follow its log,
 * and delete the sandbox at the end. Each step is safe to repeat after a crash or a retry; what
 * to do next is decided by nextStep() from the stored state. Every Daytona call is bounded
 * (calls.ts), and once the job is stopped no step writes, starts or tells anything: stop()
 * aborts what is in flight and record.ts refuses changes to a job that has ended.
 */
import { DaytonaNotFoundError, type Daytona, type Sandbox } from '@daytonaio/sdk';
import { loadConfig, type Config } from '../../worker/config.ts';
import { errorFields, log } from '../../worker/lib/log.ts';
import { loadSecretsKeys } from '../../worker/lib/secrets-crypto.ts';
import { forgetInstallationToken, installationToken } from '../../worker/github/app-auth.ts';
import { GitHubApiError } from '../../worker/github/client.ts';
import type { GitHubJobLink, GitHubPush } from '../../worker/github/work.ts';
import { CallScope, JobStopped } from './calls.ts';
import {
  ALREADY_STARTED_EXIT,
  classify,
  cloneRepository,
  createOrAdoptSandbox,
  daytonaClient,
  deleteSandbox,
  describeError,
  pushChanges,
  REPO_DIR,
  startCommand,
  startedCommands,
} from './daytona.ts';
import {
  autoStopMinutes,
  backoffMs,
  callBudgetMs,
  deadlineOf,
  exitOutcome,
  followUntil,
  isStalled,
  isTerminal,
  nextStep,
  retryAt,
  stepFailure,
  type Step,
} from './decisions.ts';
import { agentStop, commandEnv } from './agents/job-output.ts';
import { openSealedEnv, resolveEnv, SecretMissingError } from './env.ts';
import { LogFollower, type FollowResult } from './follower.ts';
import { CloneFailed } from './clone.ts';
import { GitHubStepFailed, maskTokens, MAX_PUSH_ERROR_CHARS } from './git-lines.ts';
import { commitMessage, pushPending } from './github.ts';
import type { JobRecord } from './record.ts';
import type { JobState } from './state.ts';

/** Creating a sandbox may take this many call timeouts (Daytona starts it before answering). */
const CREATE_CALLS = 3;
/** A start request that got no answer may still land: wait this long before sending another. */
const START_GRACE_MS = 10_000;
/** The longest wait between two attempts of a failing step. */
const MAX_RETRY_DELAY_MS = 60_000;
/** The longest wait before re-attaching to a log that keeps ending early. */
const MAX_REATTACH_DELAY_MS = 30_000;

/** Attempts of a push that keeps failing transiently before its failure is recorded. */
const PUSH_ATTEMPTS = 6;
/** The longest the push script may run in the sandbox. */
const PUSH_SECONDS = 300;

/** What a step asks for next: run the next step now, or wait (a deadline was set, or the job ended). */
type Next = 'continue' | 'wait';

export class JobRunner {
  private readonly record: JobRecord;
  private readonly env: Env;
  private daytona: Daytona | null = null;
  private sandbox: Sandbox | null = null;
  /** The calls of the current advance(); stop() ends them. */
  private scope = new CallScope();
  /** Whether the record masks the secrets the command was started with (this instance's memory). */
  private maskLoaded = false;
  /** The installation tokens this instance got (memory only): masked like secrets. */
  private gitTokens: string[] = [];

  constructor(record: JobRecord, env: Env) {
    this.record = record;
    this.env = env;
  }

  /** Ends every call in flight now (the job was canceled or timed out). */
  stop(): void {
    this.scope.stop();
  }

  /** Carries the job forward step by step until it waits on something or ends. */
  async advance(attempts: number): Promise<void> {
    const scope = new CallScope();
    this.scope = scope;
    let failures = attempts;
    for (;;) {
      const state = this.record.state;
      if (!state || scope.stopped) return;
      const step = nextStep(state, Date.now());
      if (step === 'none') return;
      try {
        if ((await this.runStep(step, state, scope)) === 'wait') return;
        failures = 0;
        if (this.record.require().retryingSince !== null)
          this.record.update({ retryingSince: null });
      } catch (error) {
        if (error instanceof JobStopped || isTerminal(this.record.require())) return;
        await this.failed(step, error, failures + 1);
        return;
      }
    }
  }

  /** A step failed: retry it later if that may help and the budget allows, else end the job. */
  private async failed(step: Step, error: unknown, attempt: number): Promise<void> {
    const state = this.record.require();
    if (error instanceof SecretMissingError) {
      log('warn', 'a secret of the job is missing', { job_id: state.id, secrets: error.names });
      const outcome = { status: 'failed', errorCode: 'secret_missing' } as const;
      await this.record.finish({ ...outcome, errorMessage: error.message });
      return;
    }
    const failure = classify(error);
    const fields = { job_id: state.id, step, attempt, ...errorFields(error) };
    if (failure.kind === 'transient') {
      const config = this.config();
      const now = Date.now();
      const since = state.retryingSince ?? now;
      const delay = backoffMs(attempt, Math.random(), MAX_RETRY_DELAY_MS, failure.retryAfterMs);
      const at = retryAt(state, since, now, config.daytona.retrySeconds * 1000, delay);
      if (at !== null) {
        log('warn', 'job step failed; will retry', { ...fields, retry_in_ms: at - now });
        this.record.update({ retryingSince: since });
        this.record.store.setDeadline('advance', at, attempt);
        return;
      }
      // Past the job's deadline the timeout ends it; otherwise the retry budget is spent.
      if (now + delay >= deadlineOf(state)) return;
      log('error', 'job step kept failing; giving up', fields);
      await this.record.finish(
        stepFailure(step, state, describeError(error), Math.round((now - since) / 1000)),
      );
      return;
    }
    log('error', 'job step failed for good', fields);
    await this.record.finish(stepFailure(step, state, describeError(error), null));
  }

  /** Runs one step. */
  private async runStep(step: Step, state: JobState, scope: CallScope): Promise<Next> {
    const config = this.config();
    const callMs = config.daytona.callTimeoutSeconds * 1000;
    const budget = () => callBudgetMs(this.record.require(), Date.now(), callMs);
    const record = this.record;
    switch (step) {
      case 'provision': {
        // While Daytona keeps failing, a new job waits `queued` instead of adding to the load.
        if (!state.createRequested && !(await this.admitted(state, scope, budget()))) return 'wait';
        let current: JobState | null = state;
        if (current.status === 'queued') {
          current = await record.transition({ status: 'provisioning', provisioningAt: Date.now() });
          if (!current) return 'wait';
        }
        // Recorded before Daytona is called, so a retry looks for the sandbox before creating one.
        const mayExist = current.createRequested;
        // The sandbox's billed time starts with the first create call (it may exist from then on,
        // even if the job is canceled before the call answers) and ends at its deletion.
        const askedAt = Date.now();
        const sandboxCreatedAt = current.sandboxCreatedAt ?? askedAt;
        if (!record.update({ createRequested: true, lastCreateAt: askedAt, sandboxCreatedAt })) {
          return 'wait';
        }
        const createMs = callBudgetMs(current, Date.now(), CREATE_CALLS * callMs);
        const input = {
          name: current.sandboxName,
          snapshot: current.snapshot,
          labels: {
            ...config.daytona.sandboxLabels,
            'omni.job': current.id,
            'omni.tenant': current.tenantId,
          },
          shape: current.sandboxShape,
          image: current.sandboxImage,
          autoStopMinutes: autoStopMinutes(current.timeoutSeconds),
          mayExist,
          startTimeoutSeconds: Math.max(1, Math.floor(createMs / 1000)),
        };
        try {
          this.sandbox = await scope.run('Creating the sandbox', createMs, () =>
            createOrAdoptSandbox(this.client(), input),
          );
          await this.tellBreaker(true);
        } catch (error) {
          if (!(error instanceof JobStopped)) {
            await this.tellBreaker(classify(error).kind === 'permanent');
          }
          throw error;
        }
        const sandboxId = this.sandbox.id;
        const next = await record.transition({
          status: 'cloning',
          cloningAt: Date.now(),
          sandboxId,
        });
        return next ? 'continue' : 'wait';
      }
      case 'clone': {
        const sandbox = await this.getSandbox(state, scope, budget());
        if (state.cloneRequested) {
          // An earlier attempt (or an instance evicted mid-clone) may have left a partial checkout.
          await scope.run('Cleaning the checkout', budget(), () =>
            sandbox.process.executeCommand(`rm -rf ${REPO_DIR}`),
          );
        } else if (!record.update({ cloneRequested: true })) return 'wait';
        const spec = {
          url: state.repoUrl,
          ref: state.repoRef,
          dir: REPO_DIR,
          development: config.environment === 'development',
        };
        // A job from GitHub clones with a fresh installation token (private repositories too).
        const link = state.github;
        const token =
          link === null
            ? null
            : await scope.run('Getting a GitHub token', budget(), () => this.gitToken(link));
        // Daytona ends git within the same budget the call is bounded by.
        const cloneMs = budget();
        await scope
          .run('Cloning the repository', cloneMs, () =>
            cloneRepository(sandbox, spec, Math.max(1, Math.floor(cloneMs / 1000)), token),
          )
          .catch((error: unknown) => this.forgetRefusedToken(link, error));
        const next = await record.transition({ status: 'running', runningAt: Date.now() });
        return next ? 'continue' : 'wait';
      }
      case 'start_command':
        return this.startOnce(state, scope, budget);
      case 'follow':
        return this.follow(state, scope, config);
      case 'none':
        return 'wait';
    }
  }

  /** Starts the command, unless an earlier request already did (then adopts that command). */
  private async startOnce(state: JobState, scope: CallScope, budget: () => number): Promise<Next> {
    const sandbox = await this.getSandbox(state, scope, budget());
    // An agent job's command also gets the agent's own variables (its prompt, API key, endpoint).
    const jobEnv = commandEnv(state, { anthropicBaseUrl: this.config().anthropicBaseUrl });
    const withEnv = Object.keys(jobEnv).length > 0;
    if (state.commandRequested) {
      const started = await scope.run('Listing the session', budget(), () =>
        startedCommands(sandbox, state.command, withEnv),
      );
      const first = started[0];
      if (first) return this.record.update({ cmdId: first }) ? 'continue' : 'wait';
      const landsBy = (state.commandRequestedAt ?? 0) + START_GRACE_MS;
      if (Date.now() < landsBy) {
        this.record.store.setDeadline('advance', landsBy);
        return 'wait';
      }
    }
    // Secrets are read and decrypted now, just before the start (a retry reads them again), and
    // kept in memory only; the state keeps their encrypted form, for masking after an eviction.
    const env = await scope.run('Reading the secrets', budget(), () =>
      resolveEnv(jobEnv, this.env.DB, state.tenantId, () => loadSecretsKeys(this.env)),
    );
    this.record.maskSecrets([...env.secretValues, ...this.gitTokens]);
    this.maskLoaded = true;
    const requested = { commandRequested: true, commandRequestedAt: Date.now() };
    if (!this.record.update({ ...requested, envSealed: env.sealed })) return 'wait';
    const cmdId = await scope.run('Starting the command', budget(), () =>
      startCommand(sandbox, state.command, env.values),
    );
    return this.record.update({ cmdId }) ? 'continue' : 'wait';
  }

  /** Follows the command's log for one slice and acts on how it ended. */
  private async follow(state: JobState, scope: CallScope, config: Config): Promise<Next> {
    const cmdId = state.cmdId;
    if (cmdId === null) return 'wait';
    await this.loadMask(state);
    // An agent run that can no longer succeed ends now (this instance may have been evicted
    // right after the output that said so was stored).
    if (agentStop(state) !== null)
      return this.afterFollow({ kind: 'agent_stop' }, state, scope, config);
    const callMs = config.daytona.callTimeoutSeconds * 1000;
    let sandbox: Sandbox;
    try {
      sandbox = await this.getSandbox(state, scope, callBudgetMs(state, Date.now(), callMs));
    } catch (error) {
      // A fresh instance (after an eviction) looks the sandbox up first: that it is gone is
      // a stall like any other, judged over the stall window, not a failure on the spot.
      if (!(error instanceof DaytonaNotFoundError)) throw error;
      return this.afterFollow({ kind: 'missing' }, state, scope, config);
    }
    const follower = new LogFollower(this.record, scope, config);
    const result = await follower.follow(sandbox, state, cmdId, followUntil(state, Date.now()));
    return this.afterFollow(result, state, scope, config);
  }

  /** Acts on how a slice of following ended. */
  private async afterFollow(
    result: FollowResult,
    state: JobState,
    scope: CallScope,
    config: Config,
  ): Promise<Next> {
    const cmdId = state.cmdId;
    const callMs = config.daytona.callTimeoutSeconds * 1000;
    const record = this.record;
    const now = Date.now();
    if (isTerminal(record.require())) return 'wait';
    if (result.kind === 'agent_stop') {
      const stop = agentStop(record.require());
      if (stop !== null) await record.finish(stop);
      else record.store.setDeadline('advance', now);
      return 'wait';
    }
    if (result.kind === 'missing') {
      const since = record.require().missingSince ?? now;
      if (isStalled(since, now, config.jobStallSeconds * 1000)) {
        await record.finish({
          status: 'failed',
          errorCode: 'stalled',
          errorMessage: `The sandbox or its command disappeared (or the sandbox stopped) without an exit code, for ${config.jobStallSeconds} seconds.`,
        });
        return 'wait';
      }
      record.update({ missingSince: since });
      record.store.setDeadline('advance', now + config.jobPollSeconds * 1000);
      return 'wait';
    }
    if (record.require().missingSince !== null) record.update({ missingSince: null });
    if (result.kind === 'exited') {
      if (result.exitCode === ALREADY_STARTED_EXIT) {
        // A second copy of the start request: follow the copy that runs the command instead.
        const ms = callBudgetMs(state, Date.now(), callMs);
        const sandbox = await this.getSandbox(state, scope, ms);
        const started = await scope.run('Listing the session', ms, () =>
          startedCommands(
            sandbox,
            state.command,
            state.kind === 'agent' || Object.keys(state.env).length > 0,
          ),
        );
        const first = started.find((id) => id !== cmdId);
        if (first) return record.update({ cmdId: first }) ? 'continue' : 'wait';
      }
      // An agent's result line may be its last line without a newline: it is read first.
      record.endAgentOutput();
      const outcome = exitOutcome(record.require(), result.exitCode);
      await record.finish({ ...outcome, exitCode: result.exitCode });
      return 'wait';
    }
    if (result.kind === 'slice') {
      record.store.setDeadline('advance', now);
      return 'wait';
    }
    // The log ended before the command: read it again, backing off while no new output comes.
    const attempts = result.progressed ? 0 : record.require().reattachAttempts + 1;
    record.update({ reattachAttempts: attempts });
    const delay = attempts === 0 ? 0 : backoffMs(attempts, Math.random(), MAX_REATTACH_DELAY_MS);
    record.store.setDeadline('advance', now + delay);
    return 'wait';
  }

  /**
   * Asks the Daytona circuit breaker whether a sandbox may be created now; if not, the job is
   * looked at again when the breaker lets the next one through. A breaker that cannot be asked
   * lets everything through: it protects Daytona, it must not become an outage of its own.
   */
  private async admitted(state: JobState, scope: CallScope, ms: number): Promise<boolean> {
    try {
      const retryAt = await scope.run('Asking the circuit breaker', ms, () =>
        this.breaker().admit(),
      );
      if (retryAt === null) return true;
      log('info', 'Daytona is failing; job waits', { job_id: state.id, until: retryAt });
      this.record.store.setDeadline('advance', retryAt);
      return false;
    } catch (error) {
      if (error instanceof JobStopped) throw error;
      log('warn', 'circuit breaker unavailable', { job_id: state.id, ...errorFields(error) });
      return true;
    }
  }

  /** Tells the breaker how a create went: Daytona answered (`ok`), or failed transiently. */
  private async tellBreaker(ok: boolean): Promise<void> {
    await this.breaker()
      .report(ok)
      .catch((error: unknown) => log('warn', 'circuit breaker unavailable', errorFields(error)));
  }

  private breaker() {
    const { apiUrl, target } = this.config().daytona;
    return this.env.DAYTONA_BREAKER.getByName(`${apiUrl}|${target}`);
  }

  /**
   * Deletes the job's sandbox (if one may exist). A create call abandoned by a cancel or a
   * timeout may still make the sandbox afterwards, so until that call's time is surely over the
   * cleanup runs again.
   */
  async cleanup(): Promise<void> {
    const state = this.record.state;
    if (!state || state.sandboxDeleted) return;
    if (state.createRequested) {
      this.stop();
      const scope = new CallScope();
      const callMs = this.config().daytona.callTimeoutSeconds * 1000;
      await scope.run('Deleting the sandbox', callMs, () =>
        deleteSandbox(this.client(), state.sandboxId ?? state.sandboxName),
      );
      this.sandbox = null;
      // A create that answered left nothing in flight; one that never did may still land.
      const settled = (state.lastCreateAt ?? 0) + CREATE_CALLS * callMs + 5000;
      if (state.sandboxId === null && Date.now() < settled) {
        this.record.store.setDeadline('cleanup', settled);
        return;
      }
    }
    const sandboxDeletedAt = state.createRequested ? Date.now() : null;
    this.record.save({ ...this.record.require(), sandboxDeleted: true, sandboxDeletedAt });
    log('info', 'sandbox deleted', {
      job_id: state.id,
      sandbox: state.sandboxId ?? state.sandboxName,
    });
  }

  /**
   * Makes the record mask the secret values the command was started with. They are in memory
   * only, so a new instance (after an eviction) decrypts them again before it reads output.
   */
  private async loadMask(state: JobState): Promise<void> {
    if (this.maskLoaded) return;
    const keys = () => loadSecretsKeys(this.env);
    const secrets = await openSealedEnv(state.envSealed, state.tenantId, keys);
    this.record.maskSecrets([...secrets.values(), ...this.gitTokens]);
    this.maskLoaded = true;
  }

  /**
   * The push of a succeeded agent job's changes to its GitHub branch (the `push` deadline, set
   * when the job ended, before its sandbox is deleted): records what was pushed, or why the push
   * failed, and then lets the sandbox be deleted and the job's end be reported. A transient
   * failure throws, for the deadline to run again with backoff, until PUSH_ATTEMPTS were made.
   * The job's outcome never changes: a failed push is recorded next to it.
   */
  async push(attempts: number): Promise<void> {
    const state = this.record.state;
    if (!state || !pushPending(state)) return;
    let push: GitHubPush | null = null;
    let pushError: string | null = null;
    try {
      push = await this.pushOnce(state);
    } catch (error) {
      if (classify(error).kind === 'transient' && attempts + 1 < PUSH_ATTEMPTS) throw error;
      pushError = maskTokens(describeError(error), this.gitTokens).slice(0, MAX_PUSH_ERROR_CHARS);
      log('warn', "the push of the job's changes failed", {
        job_id: state.id,
        attempts: attempts + 1,
        ...errorFields(error),
      });
    }
    await this.record.pushed(push, pushError);
  }

  /** Runs the push script once; null when there was nothing to push. */
  private async pushOnce(state: JobState): Promise<GitHubPush | null> {
    const link = state.github;
    const branch = link?.pushBranch ?? null;
    if (link === null || branch === null) {
      throw new GitHubStepFailed('the job has no branch to push to', false);
    }
    const scope = new CallScope();
    this.scope = scope;
    const config = this.config();
    const callMs = config.daytona.callTimeoutSeconds * 1000;
    const sandbox = await this.getSandbox(state, scope, callMs);
    const token = await scope.run('Getting a GitHub token', callMs, () => this.gitToken(link));
    if (state.githubPushStep === 'requested') {
      // An earlier push may have landed: the script finds its commit and pushes it again.
      log('info', 'pushing again after an interrupted push', { job_id: state.id });
    } else {
      this.record.save({ ...this.record.require(), githubPushStep: 'requested' });
    }
    const spec = {
      url: state.repoUrl,
      branch,
      dir: REPO_DIR,
      message: commitMessage(state),
      development: config.environment === 'development',
    };
    const outcome = await scope
      .run('Pushing the changes', PUSH_SECONDS * 1000 + callMs, () =>
        pushChanges(sandbox, spec, token, PUSH_SECONDS),
      )
      .catch((error: unknown) => this.forgetRefusedToken(link, error));
    if (!outcome.pushed) return null;
    log('info', "pushed the job's changes", {
      job_id: state.id,
      branch,
      commit: outcome.commitSha,
      changed_files: outcome.changedFiles,
    });
    return { branch, commitSha: outcome.commitSha, changedFiles: outcome.changedFiles };
  }

  /**
   * An installation token for the job's repository (worker/github/app-auth.ts), remembered to be
   * masked in everything stored. A failure is a GitHubStepFailed, transient when GitHub may answer
   * later.
   */
  private async gitToken(link: GitHubJobLink): Promise<string> {
    let token: string;
    try {
      ({ token } = await installationToken(this.env, link.installationId, link.repository));
    } catch (error) {
      // GitHub may answer later (no answer, 5xx, a rate limit); a refusal or a bad setting not.
      const transient = error instanceof GitHubApiError && error.transient;
      const message = `could not get an installation token for ${link.repository}: ${describeError(error)}`;
      throw new GitHubStepFailed(message, transient);
    }
    if (!this.gitTokens.includes(token)) {
      this.gitTokens.push(token);
      this.record.maskAlso([token]);
    }
    return token;
  }

  /**
   * Rethrows `error`, a failed clone or push; if it failed for good, the isolate's cached token
   * is dropped first: it may be one GitHub revoked, which the next job must not get again.
   */
  private forgetRefusedToken(link: GitHubJobLink | null, error: unknown): never {
    const permanent = error instanceof CloneFailed || error instanceof GitHubStepFailed;
    if (link !== null && permanent && !error.transient) {
      try {
        forgetInstallationToken(this.env, link.installationId, link.repository);
      } catch (forgetting) {
        // The App's settings went bad meanwhile: nothing is cached under them to forget.
        log('warn', 'could not forget an installation token', errorFields(forgetting));
      }
    }
    throw error;
  }

  private config(): Config {
    return loadConfig(this.env);
  }

  private client(): Daytona {
    this.daytona ??= daytonaClient(this.config().daytona);
    return this.daytona;
  }

  private async getSandbox(state: JobState, scope: CallScope, ms: number): Promise<Sandbox> {
    const id = state.sandboxId ?? state.sandboxName;
    this.sandbox ??= await scope.run('Finding the sandbox', ms, () => this.client().get(id));
    return this.sandbox;
  }
}
