/**
 * Watches a job to its end, as `omni run` and `omni logs --follow` do: its output streamed live,
 * the status line on a terminal, Ctrl-C handled, and the job's end turned into an exit code.
 */
import { call, streamUrl, type Api } from './api.ts';
import { ApiFailure, EXIT_INTERRUPTED } from './errors.ts';
import { askCancelOrDetach } from './interrupt.ts';
import { exitCodeOf, reasonOf } from './outcome.ts';
import { createPrinter } from './output.ts';
import { followJob } from './stream.ts';
import { colourful, StatusLine } from './terminal.ts';

/** How often a terminal's status line asks for the job's cost so far. */
const COST_POLL_MS = 5000;

export interface WatchOptions {
  job: { id: string; kind: 'command' | 'agent'; status: string };
  /** When the elapsed time starts (ms since the epoch). */
  since: number;
  /** The seq to start after: 0 prints the whole log. */
  after?: number;
  /** On Ctrl-C: `ask` whether to cancel or detach (omni run), or just `detach` (omni logs). */
  interrupt: 'ask' | 'detach';
}

/** Streams the job until it ends (or omni detaches) and resolves with omni's exit code. */
export async function watchJob(api: Api, options: WatchOptions): Promise<number> {
  const { job } = options;
  const colours = colourful(process.stderr);
  const line = new StatusLine({
    stream: process.stderr,
    other: process.stdout,
    jobId: job.id,
    since: options.since,
    colours,
  });
  const printer = createPrinter({ kind: job.kind, line, colours });
  const detached = new AbortController();
  line.update({ status: job.status });
  line.start();

  const detach = () => {
    line.pause();
    process.stderr.write(
      `omni: detached from job ${job.id}, which goes on; follow it with: omni logs ${job.id} --follow\n`,
    );
    detached.abort();
  };
  let asking = false;
  const onInterrupt = () => {
    if (asking) return;
    const interactive = options.interrupt === 'ask' && process.stdin.isTTY && process.stderr.isTTY;
    if (!interactive) return detach();
    asking = true;
    line.hold();
    void askCancelOrDetach(process.stdin, process.stderr).then(async (answer) => {
      asking = false;
      if (answer === 'detach') return detach();
      line.release();
      if (answer === 'cancel') await cancelQuietly(api, job.id, line);
    });
  };
  process.on('SIGINT', onInterrupt);

  // The cost of a running job is in GET /v1/jobs/{id}, not in its events: a terminal's status
  // line asks for it now and then.
  const poll = line.enabled
    ? setInterval(() => {
        call(api, api.client.GET('/v1/jobs/{id}', { params: { path: { id: job.id } } })).then(
          (current) => line.update({ costUsd: current.cost.total_usd }),
          () => undefined,
        );
      }, COST_POLL_MS)
    : undefined;
  poll?.unref();

  try {
    const result = await followJob({
      jobId: job.id,
      after: options.after ?? 0,
      connectUrl: (after) => streamUrl(api, job.id, after),
      onEvent: (event) => printer.print(event),
      retryable: (error) =>
        error instanceof ApiFailure &&
        (error.status === null || error.status === 429 || error.status >= 500),
      onReconnect: ({ after, delayMs, reason }) => {
        line.write(
          process.stderr,
          `omni: lost the stream: ${reason}; resuming after event ${after} in ${(delayMs / 1000).toFixed(1)} s\n`,
        );
      },
      signal: detached.signal,
    });
    const ending = printer.ending();
    if (!result.final || !ending) return EXIT_INTERRUPTED;
    line.finish();
    const reason = reasonOf(job.id, ending);
    if (reason) process.stderr.write(`${reason}\n`);
    return exitCodeOf(ending) ?? EXIT_INTERRUPTED;
  } finally {
    clearInterval(poll);
    line.pause();
    process.off('SIGINT', onInterrupt);
  }
}

/** Cancels the job; the stream then brings its `canceled` end. */
async function cancelQuietly(api: Api, id: string, line: StatusLine): Promise<void> {
  try {
    await call(api, api.client.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } }));
    line.update({ status: 'canceling' });
  } catch (error) {
    // Already ended (409): the stream brings its end. Whatever else is said, and watching goes on.
    const message = error instanceof Error ? error.message : String(error);
    line.write(process.stderr, `omni: could not cancel: ${message}\n`);
  }
}
