/**
 * The job's log as lines, kept compact enough for 100k lines and more: the text of each line as
 * one string (no markup), and one 32-bit word per line in a growable Uint32Array holding whether
 * the line has stderr output (bit 0) and the id of the ANSI colour state it starts in (the other
 * bits). Colour states are interned: most logs have a handful, so a line's state costs nothing
 * beyond its word. Rendering a line needs only its text and its starting state (ansi.ts), which
 * is what lets the view render the visible lines alone.
 */

/** The SGR (colour and style) escape sequences of a piece of text. */
// eslint-disable-next-line no-control-regex -- ESC is exactly what it looks for.
const SGR = /\x1b\[([0-9;:]*)m/g;

/** A state longer than this keeps its newest sequences only. */
const MAX_STATE_CHARS = 256;

const STDERR = 1;

/** The SGR state after `text`, starting from `state`: the sequences since the last reset. */
export function nextSgrState(state: string, text: string): string {
  if (!text.includes('\x1b')) return state;
  let out = state;
  for (const match of text.matchAll(SGR)) {
    const params = match[1] ?? '';
    const parts = params.split(/[;:]/);
    // `ESC[m` and `ESC[0m` reset everything; a reset inside a list clears what came before it.
    const reset = parts.lastIndexOf('0');
    if (params === '' || reset === parts.length - 1) out = '';
    else if (reset >= 0) out = `\x1b[${parts.slice(reset + 1).join(';')}m`;
    else out += match[0];
  }
  return out.length > MAX_STATE_CHARS ? out.slice(-MAX_STATE_CHARS) : out;
}

/** What a carriage return leaves of a line: the text after the last one (a redrawn progress bar). */
function afterCarriageReturn(line: string): string {
  const cr = line.lastIndexOf('\r', line.length - 2);
  const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
  return cr < 0 ? trimmed : trimmed.slice(cr + 1);
}

export class LogStore {
  private text: string[] = [];
  private meta = new Uint32Array(1024);
  private states: string[] = [''];
  private stateIds = new Map<string, number>([['', 0]]);
  /** The SGR state at the end of what was appended so far. */
  private sgr = '';
  /** The state the open (last, unterminated) line started in. */
  private openState = 0;
  /** The open line's text, not yet split off (it may still grow). */
  private open = '';
  private openStderr = false;
  /** Bumped on every change, so that a view knows when to render. */
  version = 0;

  /** Lines, counting an unterminated last line. */
  get length(): number {
    return this.text.length + (this.open === '' ? 0 : 1);
  }

  /** The text of line `i` (with its escape sequences). */
  line(i: number): string {
    return i < this.text.length ? (this.text[i] ?? '') : afterCarriageReturn(this.open);
  }

  /** The SGR state line `i` starts in, as escape sequences to prepend. */
  startState(i: number): string {
    const word = i < this.text.length ? (this.meta[i] ?? 0) : this.openState << 1;
    return this.states[word >>> 1] ?? '';
  }

  /** True if line `i` has stderr output. */
  isStderr(i: number): boolean {
    return i < this.text.length ? ((this.meta[i] ?? 0) & STDERR) !== 0 : this.openStderr;
  }

  /** Appends a chunk of output; lines end at `\n`, and a chunk may end mid-line. */
  append(chunk: string, stderr: boolean): void {
    if (chunk === '') return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      const piece = nl < 0 ? chunk.slice(start) : chunk.slice(start, nl);
      if (this.open === '' && piece !== '') this.openState = this.intern(this.sgr);
      if (piece !== '') {
        this.open += piece;
        this.openStderr ||= stderr;
        this.sgr = nextSgrState(this.sgr, piece);
      }
      if (nl < 0) break;
      if (this.open === '') this.openState = this.intern(this.sgr);
      this.push(afterCarriageReturn(this.open), this.openState, this.openStderr || stderr);
      this.open = '';
      this.openStderr = false;
      start = nl + 1;
    }
    this.version++;
  }

  private push(line: string, state: number, stderr: boolean): void {
    const i = this.text.length;
    if (i === this.meta.length) {
      const grown = new Uint32Array(this.meta.length * 2);
      grown.set(this.meta);
      this.meta = grown;
    }
    this.text.push(line);
    this.meta[i] = (state << 1) | (stderr ? STDERR : 0);
  }

  private intern(state: string): number {
    let id = this.stateIds.get(state);
    if (id === undefined) {
      id = this.states.length;
      this.states.push(state);
      this.stateIds.set(state, id);
    }
    return id;
  }
}
