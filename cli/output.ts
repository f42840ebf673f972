/**
 * Prints a job's events: a command's stdout to stdout and its stderr to stderr, as they were
 * produced. An agent job's raw stdout is its CLI's JSON lines, so the agent's typed events are
 * printed instead: its text to stdout, its tool calls and retries to stderr.
 */
import { exitCodeOf, type Ending } from './outcome.ts';
import type { JobEvent } from './stream.ts';
import { painter, type StatusLine } from './terminal.ts';

export interface Printer {
  /** Prints one event; status events update the status line. */
  print(event: JobEvent): void;
  /** What the final status event (and the exit event before it) said. */
  ending(): Ending | null;
}

interface PrinterOptions {
  kind: 'command' | 'agent';
  line: StatusLine;
  colours: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

function field(record: Record<string, unknown>, name: string): string {
  const value = record[name];
  return typeof value === 'string' ? value : '';
}

/** The first line of `text`, at most `max` characters. */
function short(text: string, max = 120): string {
  const first = text.split('\n', 1)[0] ?? '';
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

export function createPrinter(options: PrinterOptions): Printer {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const paint = painter(options.colours);
  const { line } = options;
  let exitCode: number | null = null;
  let final: JobEvent | null = null;

  const printAgent = (agent: Record<string, unknown>) => {
    const kind = field(agent, 'kind');
    if (kind === 'text') {
      const text = field(agent, 'text');
      line.write(stdout, text.endsWith('\n') ? text : `${text}\n`);
    } else if (kind === 'tool_call') {
      line.write(stderr, paint.dim(`› ${field(agent, 'name')} ${short(field(agent, 'input'))}\n`));
    } else if (kind === 'tool_result' && agent.is_error === true) {
      line.write(stderr, paint.dim(`  ✗ ${short(field(agent, 'content'))}\n`));
    } else if (kind === 'api_retry') {
      line.write(
        stderr,
        paint.dim(`  (API retry ${String(agent.attempt)}: ${field(agent, 'error')})\n`),
      );
    }
  };

  return {
    print(event) {
      switch (event.type) {
        case 'stdout':
          if (options.kind === 'command') line.write(stdout, event.data ?? '');
          break;
        case 'stderr':
          line.write(stderr, event.data ?? '');
          break;
        case 'agent':
          if (event.agent) printAgent(event.agent);
          break;
        case 'truncated':
          line.write(
            stderr,
            `omni: output beyond ${String(event.limit_bytes ?? '')} bytes was not kept\n`,
          );
          break;
        case 'exit':
          exitCode = event.exit_code ?? null;
          break;
        case 'status':
          if (event.status) {
            line.update({ status: event.status, costUsd: event.cost?.total_usd ?? null });
          }
          if (event.status && exitCodeOf({ status: event.status, exitCode: null }) !== null) {
            final = event;
          }
          break;
      }
    },
    ending() {
      if (!final?.status) return null;
      return {
        status: final.status,
        exitCode,
        error: final.error ?? null,
        costUsd: final.cost?.total_usd ?? null,
      };
    },
  };
}
