/** `omni jobs` (a page of the tenant's jobs) and `omni cancel <id>`. */
import type { Command } from 'commander';
import { call, connect, type Job } from './api.ts';
import { jobStatuses, type JobStatus } from '../worker/domain/jobs.ts';
import { UsageError } from './errors.ts';
import { colourful, formatElapsed, formatUsd, painter, paintStatus } from './terminal.ts';

const STATUSES = jobStatuses;
type Status = JobStatus;

function isStatus(value: string): value is Status {
  return (STATUSES as readonly string[]).includes(value);
}

/** Lays out rows in columns two spaces apart; `widthOf` ignores escape codes. */
export function table(rows: string[][]): string {
  // eslint-disable-next-line no-control-regex
  const widthOf = (cell: string) => [...cell.replace(/\x1b\[[0-9;]*m/g, '')].length;
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, widthOf(cell))));
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) =>
          i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - widthOf(cell)),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function what(job: Job): string {
  const text = job.kind === 'agent' ? `agent: ${job.agent?.prompt ?? job.command}` : job.command;
  const first = text.split('\n', 1)[0] ?? '';
  return first.length > 60 ? `${first.slice(0, 59)}…` : first;
}

interface JobsFlags {
  status?: string;
  limit?: string;
  cursor?: string;
  json?: boolean;
}

async function listJobs(flags: JobsFlags): Promise<number> {
  if (flags.status !== undefined && !isStatus(flags.status)) {
    throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
  }
  const limit = flags.limit === undefined ? undefined : Number(flags.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 100)) {
    throw new UsageError('--limit must be a whole number from 1 to 100');
  }
  const api = await connect();
  const page = await call(
    api,
    api.client.GET('/v1/jobs', {
      params: {
        query: {
          ...(limit ? { limit } : {}),
          ...(flags.status && isStatus(flags.status) ? { status: flags.status } : {}),
          ...(flags.cursor ? { cursor: flags.cursor } : {}),
        },
      },
    }),
  );
  if (flags.json) {
    for (const job of page.data) process.stdout.write(`${JSON.stringify(job)}\n`);
  } else {
    const paint = painter(colourful(process.stdout));
    const rows = page.data.map((job) => [
      job.id,
      paintStatus(paint, job.status),
      job.exit_code === null ? '' : String(job.exit_code),
      job.created_at.replace('T', ' ').slice(0, 19),
      job.duration_ms === null ? '' : formatElapsed(job.duration_ms),
      formatUsd(job.cost.total_usd),
      what(job),
    ]);
    const header = ['ID', 'STATUS', 'EXIT', 'CREATED (UTC)', 'TIME', 'COST', 'COMMAND'];
    process.stdout.write(page.data.length > 0 ? `${table([header, ...rows])}\n` : 'No jobs.\n');
  }
  if (page.next_cursor) {
    process.stderr.write(`omni: more jobs: omni jobs --cursor ${page.next_cursor}\n`);
  }
  return 0;
}

async function cancel(id: string): Promise<number> {
  const api = await connect();
  const job = await call(
    api,
    api.client.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } }),
  );
  process.stdout.write(`Canceled ${job.id}.\n`);
  return 0;
}

export function registerJobs(program: Command, exit: (code: number) => void): void {
  program
    .command('jobs')
    .description("List the tenant's jobs, newest first")
    .option('--status <status>', `only jobs in this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'jobs per page, 1 to 100 (default 20)')
    .option('--cursor <cursor>', 'the next page, as the previous page printed')
    .option('--json', 'one JSON object per job and line')
    .action(async (flags: JobsFlags) => exit(await listJobs(flags)));
  program
    .command('cancel')
    .description('Cancel a job')
    .argument('<id>', 'the job id')
    .action(async (id: string) => exit(await cancel(id)));
}
