/**
 * Bounds on every outside call the Job DO makes while a job runs. A call that hangs must not
 * hold the job (or its alarm) hostage: each call races a timer that fits the job's remaining
 * time, and a cancel or timeout aborts whatever is in flight at once. The abandoned call goes on
 * in the background and its answer is dropped.
 */

/** The job was stopped (canceled or timed out) while a call was in flight. */
export class JobStopped extends Error {
  constructor() {
    super('The job was stopped.');
    this.name = 'JobStopped';
  }
}

/** A call took longer than its budget. Transient: the same call may succeed later. */
export class CallTimedOut extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${Math.round(ms / 1000)} seconds.`);
    this.name = 'CallTimedOut';
  }
}

/** The calls of one run of the job's steps; stop() ends them all. */
export class CallScope {
  private readonly controller = new AbortController();

  /** Aborted once the job is stopped: pass it to fetches so they end too. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  stop(): void {
    this.controller.abort();
  }

  /**
   * Runs `call`, rejecting with CallTimedOut after `ms` and with JobStopped as soon as the scope
   * is stopped (or at once if it already is).
   */
  async run<T>(what: string, ms: number, call: () => Promise<T>): Promise<T> {
    if (this.stopped) throw new JobStopped();
    if (ms <= 0) throw new CallTimedOut(what, 0);
    const pending = call();
    // If the race is lost, the call's own outcome is of no interest.
    pending.catch(() => undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: () => void = () => undefined;
    const bound = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new CallTimedOut(what, ms)), ms);
      onAbort = () => reject(new JobStopped());
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([pending, bound]);
    } finally {
      clearTimeout(timer);
      this.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Waits `ms`, or less if the scope is stopped first (then rejects with JobStopped). */
  async sleep(ms: number): Promise<void> {
    await this.run('sleep', ms + 1000, () => new Promise<void>((r) => setTimeout(r, ms)));
  }
}
