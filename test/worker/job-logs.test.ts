/**
 * The log follower is exact: whatever the log WebSocket does (drop after a few frames, close
 * cleanly too early, stay open after the command ended), the stored output is byte for byte
 * what the command printed, multi-byte characters included, and the job ends with its exit code.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  addFaults,
  newJobId,
  removeFaults,
  sandboxStats,
  startJob,
  storedStdout,
  waitForStatus,
} from './faults.ts';
import { newTenant } from './helpers.ts';

const final = (s: string) => ['succeeded', 'failed', 'timed_out', 'canceled'].includes(s);

/**
 * A command printing 40 lines of 300 multi-byte characters (€, 3 bytes each: the daemon's
 * frames of at most 1024 bytes split characters), with pauses so the log arrives in many frames.
 */
const LINES = 40;
const line = (i: number) => `${String(i).padStart(2, '0')} ${'€'.repeat(300)}`;
const command = `for i in $(seq -w 0 ${LINES - 1}); do printf '%s %s\\n' "$i" "$(printf '€%.0s' $(seq 300))"; sleep 0.05; done; exit 3`;
const expected = Array.from({ length: LINES }, (_, i) => `${line(i)}\n`).join('');

async function runWith(fault: Parameters<typeof addFaults>[0] | null) {
  const { tenantId } = await newTenant();
  const { id, sandbox } = newJobId();
  const faults = fault ? await addFaults({ ...fault, sandbox }) : [];
  try {
    await startJob(id, tenantId, command);
    expect(await waitForStatus(id, tenantId, final)).toBe('failed');
    const row = await env.JOB.getByName(id).get(tenantId);
    expect(row?.exitCode).toBe(3);
    expect(row?.errorCode).toBe('command_failed');
    const out = await storedStdout(id, tenantId);
    expect(out.length).toBe(expected.length);
    expect(out).toBe(expected);
    expect((await sandboxStats(sandbox))[0]?.sessionCommands).toBe(1);
  } finally {
    await removeFaults(faults);
  }
}

describe('the log follower', () => {
  it('stores multi-byte output split across frames exactly', async () => {
    await runWith(null);
  });

  it('re-reads a log that drops abruptly after a few frames, without duplicates', async () => {
    await runWith({ action: 'cut-logs', afterFrames: 3, times: 2 });
  });

  it('re-reads a log that closes cleanly before the command ended', async () => {
    await runWith({ action: 'cut-logs', afterFrames: 5, close: 'clean', times: 1 });
  });

  it('follows one log for longer than the alarm watchdog without a second follower', async () => {
    // 8 s of output in one alarm run: the 5 s watchdog alarm comes due meanwhile and must not
    // start a second invocation that would follow (and store) the same log again.
    const { tenantId } = await newTenant();
    const { id, sandbox } = newJobId();
    await startJob(id, tenantId, 'for i in 1 2 3 4 5 6 7 8; do echo "line $i"; sleep 1; done');
    expect(await waitForStatus(id, tenantId, final)).toBe('succeeded');
    const lines = Array.from({ length: 8 }, (_, i) => `line ${i + 1}\n`).join('');
    expect(await storedStdout(id, tenantId)).toBe(lines);
    expect((await sandboxStats(sandbox))[0]?.sessionCommands).toBe(1);
  });

  it('finishes a command whose log stays open after it exited', async () => {
    await runWith({ action: 'hold-logs' });
  });
});
