/**
 * What the CLI writes to the terminal besides a job's output: colours and the status line. Both
 * appear only on a terminal: output to a file or a pipe gets no escape codes at all.
 */

/** Whether `stream` gets colours: a terminal, NO_COLOR unset or empty, TERM not "dumb". */
export function colourful(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env) {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** Escape codes of a few SGR colours (ECMA-48), or nothing when colours are off. */
export function painter(enabled: boolean) {
  const sgr = (code: string) => (text: string) => (enabled ? `\x1b[${code}m${text}\x1b[0m` : text);
  return { red: sgr('31'), green: sgr('32'), yellow: sgr('33'), dim: sgr('2'), bold: sgr('1') };
}

export type Painter = ReturnType<typeof painter>;

const FINAL = new Set(['succeeded', 'failed', 'timed_out', 'canceled']);

/** "1m05s" for 65 000 ms. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** "$0.0123": dollars with four decimals, enough for a sandbox minute. */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

/** The colour of a job status. */
export function paintStatus(paint: Painter, status: string): string {
  if (status === 'succeeded') return paint.green(status);
  if (status === 'failed' || status === 'timed_out') return paint.red(status);
  if (status === 'canceled') return paint.yellow(status);
  return status;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface StatusLineOptions {
  /** Where the line is drawn (stderr). Nothing is drawn unless it is a terminal. */
  stream: NodeJS.WriteStream;
  /** The other stream of the same terminal (stdout), whose output moves the cursor too. */
  other: NodeJS.WriteStream;
  jobId: string;
  /** When the job was created (its elapsed time counts from there). */
  since: number;
  colours: boolean;
  /** Off forces the line off even on a terminal (default: on when `stream` is a terminal). */
  enabled?: boolean;
}

/**
 * One line at the bottom of the terminal: spinner, status, elapsed time and cost. Output goes
 * through `write`, which erases the line, writes the output and draws the line again below it.
 * It is drawn only while the cursor is at the start of a line, so a partial line of output is
 * never cut by it.
 */
export class StatusLine {
  readonly enabled: boolean;
  private readonly options: StatusLineOptions;
  private readonly paint: Painter;
  private status = 'queued';
  private cost: number | null = null;
  private shown = false;
  private atLineStart = true;
  private frame = 0;
  /** Set by `finish`: a late update (a cost that arrives afterwards) draws nothing. */
  private done = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Output that arrived while a prompt was up, written once it is answered. */
  private held: [NodeJS.WriteStream, string][] | null = null;

  constructor(options: StatusLineOptions) {
    this.options = options;
    this.enabled = (options.enabled ?? true) && Boolean(options.stream.isTTY);
    this.paint = painter(options.colours);
  }

  /** Starts redrawing once a second (the elapsed time and the spinner move). */
  start(): void {
    if (!this.enabled) return;
    this.draw();
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
  }

  update(change: { status?: string; costUsd?: number | null }): void {
    if (change.status) this.status = change.status;
    if (change.costUsd !== undefined && change.costUsd !== null) this.cost = change.costUsd;
    this.draw();
  }

  /** Writes output to `target` (stdout or stderr) below the status line. */
  write(target: NodeJS.WriteStream, text: string): void {
    if (text.length === 0) return;
    if (this.held) {
      this.held.push([target, text]);
      return;
    }
    this.erase();
    target.write(text);
    if (this.enabled && (target === this.options.stream || target.isTTY)) {
      this.atLineStart = text.endsWith('\n');
    }
    this.draw();
  }

  /** Removes the line (before a prompt, or at the end), and stops redrawing it. */
  pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.erase();
  }

  /** Removes the line and keeps output back (while a prompt waits for an answer). */
  hold(): void {
    this.pause();
    this.held ??= [];
  }

  /** Writes the output kept back, then carries on drawing the line. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const [target, text] of held) this.write(target, text);
    this.start();
  }

  /** Stops for good, leaving the final line (status, time, cost) on the terminal. */
  finish(): void {
    if (this.held) this.release();
    this.pause();
    if (!this.enabled) return;
    if (!this.atLineStart) this.options.stream.write('\n');
    this.options.stream.write(`${this.text()}\n`);
    this.atLineStart = true;
    this.done = true;
  }

  private text(): string {
    const { jobId, since } = this.options;
    const final = FINAL.has(this.status);
    const mark = final ? (this.status === 'succeeded' ? '✓' : '✗') : SPINNER[this.frame % 10];
    const parts = [
      `${mark} ${paintStatus(this.paint, this.status)}`,
      formatElapsed(Date.now() - since),
      ...(this.cost === null ? [] : [formatUsd(this.cost)]),
      this.paint.dim(jobId),
    ];
    return parts.join('  ');
  }

  private draw(): void {
    if (!this.enabled || !this.atLineStart || this.done) return;
    this.frame += 1;
    const columns = this.options.stream.columns || 80;
    // Cut to the terminal's width so that the line never wraps (escape codes take no columns).
    const text = this.text();
    this.options.stream.write(
      `\r\x1b[2K${visibleLength(text) < columns ? text : stripEscapes(text).slice(0, columns - 1)}`,
    );
    this.shown = true;
  }

  private erase(): void {
    if (!this.shown) return;
    this.options.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}

// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-9;]*m/g;

function stripEscapes(text: string): string {
  return text.replace(ESCAPES, '');
}

function visibleLength(text: string): number {
  return [...stripEscapes(text)].length;
}
