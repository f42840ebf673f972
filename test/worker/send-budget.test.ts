/** The send budget of a job's watchers, as pure functions of the clock. */
import { describe, expect, it } from 'vitest';
import { SendWindow, utf8Length } from '../../durable-objects/job/send-budget.ts';

describe('send window', () => {
  it('gives out its bytes once per window, and a sender may be held to a part of them', () => {
    const window = new SendWindow(1000, 100);
    expect(window.room(5000)).toBe(1000);
    window.spend(700, 5000);
    expect(window.room(5050)).toBe(300);
    expect(window.room(5050, 800)).toBe(100);
    window.spend(400, 5060);
    expect(window.room(5099)).toBe(0);
    expect(window.untilNext(5099)).toBe(1);
    // A new window starts fresh, whatever the last one overspent.
    expect(window.room(5100)).toBe(1000);
    expect(window.untilNext(5100)).toBe(100);
  });

  it('counts what is sent in UTF-8 bytes, as on the wire', () => {
    for (const text of ['', 'plain', 'é', '€ and 😀', '\u{10FFFF}', 'a\uD800b', '\uDC00']) {
      // Lone surrogates go out as U+FFFD, which TextEncoder also writes (3 bytes).
      expect(utf8Length(text), JSON.stringify(text)).toBe(new TextEncoder().encode(text).length);
    }
  });
});
