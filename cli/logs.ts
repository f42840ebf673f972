/**
 * `omni logs <id>`: a job's output so far, read page by page from its event log; with
 * `--follow`, streamed live to the job's end, exiting like `omni run`.
 */
import type { Command } from 'commander';
import { call, connect } from './api.ts';
import { ApiFailure } from './errors.ts';
import { createPrinter } from './output.ts';
import { parseEvent } from './stream.ts';
import { colourful, StatusLine } from './terminal.ts';
import { watchJob } from './watch.ts';

async function logs(id: string, flags: { follow?: boolean }): Promise<number> {
  const api = await connect();
  const job = await call(api, api.client.GET('/v1/jobs/{id}', { params: { path: { id } } }));
  if (flags.follow) {
    return watchJob(api, { job, since: Date.parse(job.created_at), interrupt: 'detach' });
  }
  // No status line here: the log is printed as it is, and ends.
  const line = new StatusLine({
    stream: process.stderr,
    other: process.stdout,
    jobId: id,
    since: 0,
    colours: false,
    enabled: false,
  });
  const printer = createPrinter({ kind: job.kind, line, colours: colourful(process.stderr) });
  let after = 0;
  for (;;) {
    const page = await call(
      api,
      api.client.GET('/v1/jobs/{id}/events', {
        params: { path: { id }, query: { after, limit: 1000 } },
      }),
    );
    // The route streams Server-Sent Events too, but only when asked (Accept: text/event-stream).
    if (typeof page === 'string')
      throw new ApiFailure('The event log came as text, not JSON.', null, null);
    for (const item of page.data) {
      const event = parseEvent(JSON.stringify(item));
      if (event) printer.print(event);
    }
    // next_after is null once the job ended and everything was read; an empty page of a job
    // still running is everything there is so far.
    if (page.next_after === null || page.data.length === 0) break;
    after = page.next_after;
  }
  return 0;
}

export function registerLogs(program: Command, exit: (code: number) => void): void {
  program
    .command('logs')
    .description("Print a job's output; --follow streams it to the job's end")
    .argument('<id>', 'the job id')
    .option(
      '-f, --follow',
      "follow the output live until the job ends, and exit with the job's exit code",
    )
    .action(async (id: string, flags: { follow?: boolean }) => exit(await logs(id, flags)));
}
