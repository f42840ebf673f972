/**
 * The web view's log store (web/src/app/log-store.ts), which has no DOM: lines split across
 * chunks, the colour state each line starts in, carriage returns, stderr marks, and 100k lines.
 */
import { describe, expect, it } from 'vitest';
import { LogStore, nextSgrState } from '../../web/src/app/log-store.ts';

const lines = (store: LogStore) => Array.from({ length: store.length }, (_, i) => store.line(i));

describe('LogStore', () => {
  it('joins a line printed in several chunks, and shows an unterminated last line', () => {
    const store = new LogStore();
    store.append('hel', false);
    expect(lines(store)).toEqual(['hel']);
    store.append('lo\nwor', false);
    store.append('ld\n\nend', false);
    expect(lines(store)).toEqual(['hello', 'world', '', 'end']);
  });

  it('starts each line in the colour state the previous lines left', () => {
    const store = new LogStore();
    store.append('\x1b[31mred starts\nstill red\x1b[0m\nplain\n\x1b[1mbold ', false);
    store.append('and\x1b[32m green\nboth\n', false);
    expect([0, 1, 2, 3, 4].map((i) => store.startState(i))).toEqual([
      '',
      '\x1b[31m',
      '',
      '',
      '\x1b[1m\x1b[32m',
    ]);
  });

  it('forgets what a reset inside a list cleared', () => {
    expect(nextSgrState('\x1b[31m', '\x1b[0;1m')).toBe('\x1b[1m');
    expect(nextSgrState('\x1b[31m', '\x1b[m')).toBe('');
    expect(nextSgrState('\x1b[31m', '\x1b[1;0m')).toBe('');
  });

  it('keeps what follows the last carriage return of a line (a redrawn progress bar)', () => {
    const store = new LogStore();
    store.append('10%\r50%\r100%\nwindows\r\n', false);
    expect(lines(store)).toEqual(['100%', 'windows']);
  });

  it('marks the lines with stderr output', () => {
    const store = new LogStore();
    store.append('out\n', false);
    store.append('err\n', true);
    store.append('mixed ', false);
    store.append('half\n', true);
    expect([0, 1, 2].map((i) => store.isStderr(i))).toEqual([false, true, true]);
  });

  it('holds 100k lines appended in 16 KiB chunks, as events carry them', () => {
    const store = new LogStore();
    const text = Array.from({ length: 100_000 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    for (let at = 0; at < text.length; at += 16_384)
      store.append(text.slice(at, at + 16_384), false);
    expect(store.length).toBe(100_000);
    expect(store.line(0)).toBe('line 1');
    expect(store.line(99_999)).toBe('line 100000');
    expect(store.line(54_321)).toBe('line 54322');
  });
});
