/**
 * The question Ctrl-C asks on a terminal while `omni run` watches a job: cancel it, or detach
 * and leave it running. One key answers; a second Ctrl-C detaches.
 */

export type Answer = 'cancel' | 'detach' | 'continue';

/** What a key pressed at the prompt means. */
export function answerOf(key: string): Answer {
  const k = key.toLowerCase();
  if (k.startsWith('c')) return 'cancel';
  // Ctrl-C (ETX, 0x03) or Ctrl-D (EOT, 0x04) again: leave.
  if (k.startsWith('d') || k === '\x03' || k === '\x04') return 'detach';
  return 'continue';
}

/** Asks on `output` and reads one key from the terminal `input` (in raw mode meanwhile). */
export function askCancelOrDetach(
  input: NodeJS.ReadStream,
  output: NodeJS.WriteStream,
): Promise<Answer> {
  output.write('\nCancel the job, or detach? [c/d] ');
  return new Promise((resolve) => {
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.resume();
    input.once('data', (data: Buffer) => {
      input.setRawMode(wasRaw);
      input.pause();
      const answer = answerOf(data.toString('utf8'));
      output.write(
        `${answer === 'cancel' ? 'cancel' : answer === 'detach' ? 'detach' : 'go on watching'}\n`,
      );
      resolve(answer);
    });
  });
}
