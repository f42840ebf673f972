/**
 * One command of a session: its on-disk log and the live feed followers subscribe to.
 *
 * The log is written like the real daemon's: raw bytes, each piece prefixed with a 3-byte stream
 * marker (\x01\x01\x01 stdout, \x02\x02\x02 stderr). We mark every chunk rather than every line;
 * the SDK's demuxer only cares that a marker precedes each stream switch. Writes are synchronous
 * so that "bytes logged so far" always equals the file's length, which lets a follower replay
 * the file up to a known offset and then continue with live chunks without gaps or repeats.
 */
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Marker preceding stdout bytes in a command log. */
const STDOUT_MARKER = Buffer.from([1, 1, 1]);
/** Marker preceding stderr bytes in a command log. */
const STDERR_MARKER = Buffer.from([2, 2, 2]);

/** Output of a command, split the way the daemon's logs endpoint reports it. */
interface CommandLogs {
  /** stdout and stderr interleaved in arrival order, markers removed. */
  output: string;
  stdout: string;
  stderr: string;
}

/** Splits a marked log into combined, stdout and stderr text. */
function demuxLog(log: Buffer): CommandLogs {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const all: Buffer[] = [];
  let current: Buffer[] | undefined;
  let start = 0;
  let i = 0;
  const flush = (end: number): void => {
    if (current && end > start) {
      const piece = log.subarray(start, end);
      current.push(piece);
      all.push(piece);
    }
  };
  while (i + 3 <= log.length) {
    const isOut = log[i] === 1 && log[i + 1] === 1 && log[i + 2] === 1;
    const isErr = log[i] === 2 && log[i + 1] === 2 && log[i + 2] === 2;
    if (isOut || isErr) {
      flush(i);
      current = isOut ? out : err;
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  flush(log.length);
  const text = (parts: Buffer[]): string => Buffer.concat(parts).toString('utf8');
  return { output: text(all), stdout: text(out), stderr: text(err) };
}

/** A command submitted to a session. Emits 'data' (marked bytes) and 'end'. */
export class SessionCommand extends EventEmitter {
  readonly id: string;
  readonly command: string;
  /** Directory holding this command's files (log, script). */
  readonly dir: string;
  readonly logPath: string;
  #fd: number | undefined;
  #length = 0;
  #exitCode: number | undefined;
  #done = false;

  constructor(id: string, command: string, dir: string) {
    super();
    this.setMaxListeners(0); // Any number of followers may attach.
    this.id = id;
    this.command = command;
    this.dir = dir;
    this.logPath = path.join(dir, 'output.log');
    mkdirSync(dir, { recursive: true });
    this.#fd = openSync(this.logPath, 'a');
  }

  /** Bytes logged so far (equal to the log file's size). */
  get length(): number {
    return this.#length;
  }

  /** Exit code once finished; undefined while queued or running. */
  get exitCode(): number | undefined {
    return this.#exitCode;
  }

  /** True once the command has finished (or was abandoned) and no more output will come. */
  get done(): boolean {
    return this.#done;
  }

  /** Appends output from one stream. */
  append(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    if (this.#fd === undefined || chunk.length === 0) return;
    const marked = Buffer.concat([stream === 'stdout' ? STDOUT_MARKER : STDERR_MARKER, chunk]);
    try {
      for (let written = 0; written < marked.length;) {
        written += writeSync(this.#fd, marked, written);
      }
    } catch {
      // Disk full or similar: stop logging rather than crash; followers keep what they have.
      closeSync(this.#fd);
      this.#fd = undefined;
      return;
    }
    this.#length += marked.length;
    this.emit('data', marked);
  }

  /** Records completion; `exitCode` undefined means the command never ran. */
  finish(exitCode: number | undefined): void {
    if (this.#done) return;
    this.#exitCode = exitCode;
    this.#done = true;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.emit('end');
  }

  /** Resolves when the command has finished. */
  whenDone(): Promise<void> {
    if (this.#done) return Promise.resolve();
    return new Promise((resolve) => this.once('end', () => resolve()));
  }

  /** Reads and splits everything logged so far. */
  async logs(): Promise<CommandLogs> {
    return demuxLog(await readFile(this.logPath));
  }
}
