/**
 * What each soak job does, drawn from a seeded random generator: its command (whose output is
 * known in advance, multi-byte UTF-8 included), its time limit, whether it queues, and what the
 * soak does to it (a fault aimed at its sandbox, cancels, watchers). The command also appends
 * the time it started to a file on the host (local-daytona does not chroot commands), so that a
 * command that ran twice, or started after its job had ended, shows.
 */

/** A small seeded generator (mulberry32), so that `--seed` repeats the same plans. */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

/** Faults aimed at one job's sandbox (`omni-<job id>`), installed once the job exists. */
export const jobFaults = [
  'lose',
  'stop',
  'cut-logs',
  'hold-logs',
  'hang-clone',
  'clone-reply-lost',
  'exec-reply-lost',
  'exec-fails',
  'exec-delayed',
  'toolbox-delayed',
] as const;
export type JobFault = (typeof jobFaults)[number];

export interface JobPlan {
  index: number;
  /** `j<index>`: tags every line the command prints and names its start-marker file. */
  tag: string;
  kind: 'lines' | 'burst' | 'quiet' | 'slow';
  command: string;
  stdout: string;
  stderr: string;
  exitCode: number;
  timeoutSeconds: number;
  queue: boolean;
  fault: JobFault | null;
  /** Cancel this long after the job was created; `twice`: again, this much later (0: at once). */
  cancel: { afterMs: number; againAfterMs: number | null } | null;
  /** A watcher that stays to the end: connects this long after creation, from `after`. */
  watcher: { afterMs: number; after: number } | null;
  /** Watchers that drop their connection abruptly: connect after `atMs`, live for `forMs`. */
  droppers: { atMs: number; forMs: number }[];
}

/** The first line of the sample repository's README.md, which every command prints first. */
const README_LINE = '# Sample repository\n';
/** One unit of the long line: 9 bytes, so 4 KiB pipe writes end inside a character. */
const UNIT = 'жé🚀x';

/** Draws the plan of job `index`. `stallSeconds` is the stall window quiet jobs must outlast. */
export function planJob(
  random: Random,
  index: number,
  markerDir: string,
  stallSeconds: number,
): JobPlan {
  const tag = `j${index}`;
  const fault = random.chance(0.4) ? random.pick(jobFaults) : null;
  // A sandbox is lost or stopped once its job is seen running: its command must still be
  // running then, and the stall window must end before the job's time limit.
  const kind =
    fault === 'lose' || fault === 'stop'
      ? 'quiet'
      : random.pick(['lines', 'lines', 'lines', 'burst', 'quiet', 'slow'] as const);
  let lines: number;
  let sleep = '0';
  let pause = 0;
  let longUnits = 0;
  let timeoutSeconds = random.int(30, 45);
  if (kind === 'lines') {
    lines = random.int(1, 40);
    sleep = random.pick(['0', '0.02', '0.05', '0.1']);
  } else if (kind === 'burst') {
    lines = random.int(300, 2500);
    longUnits = random.int(2000, 9000);
  } else if (kind === 'quiet') {
    lines = 4;
    pause = stallSeconds + 3;
  } else {
    lines = random.int(10, 20);
    sleep = '0.5';
    // Usually too short for the command: the job must end as timed_out, on time.
    timeoutSeconds = random.int(4, 9);
  }
  const errEvery = random.int(2, 7);
  const exitCode = kind === 'lines' && random.chance(0.3) ? random.pick([1, 2, 3, 42]) : 0;
  const out = (i: number) => `${tag} out ${i} ✓ café ж 🚀\n`;
  const err = (i: number) => `${tag} err ${i} ✗ ñ\n`;
  let stdout = README_LINE;
  let stderr = '';
  for (let i = 1; i <= lines; i++) {
    stdout += out(i);
    if (i % errEvery === 0) stderr += err(i);
  }
  if (longUnits > 0) stdout += `a${UNIT.repeat(longUnits)}\n`;
  const pauseAt = Math.floor(lines / 2);
  const command = [
    `date +%s%3N >> ${markerDir}/${tag}`,
    'head -n 1 README.md',
    `for i in $(seq 1 ${lines}); do printf '${tag} out %d ✓ café ж 🚀\\n' "$i"`,
    `if [ $((i % ${errEvery})) -eq 0 ]; then printf '${tag} err %d ✗ ñ\\n' "$i" >&2; fi`,
    pause > 0 ? `if [ "$i" -eq ${pauseAt} ]; then sleep ${pause}; fi` : 'true',
    `sleep ${sleep}; done`,
    longUnits > 0 ? `printf a; yes '${UNIT}' | head -n ${longUnits} | tr -d '\\n'; echo` : 'true',
    `exit ${exitCode}`,
  ].join('; ');
  // A clone that hangs can only end by the job's time limit: keep that short.
  if (fault === 'hang-clone') timeoutSeconds = random.int(6, 12);
  const cancel = random.chance(0.15)
    ? {
        afterMs: random.int(0, 8000),
        againAfterMs: random.chance(0.3) ? random.pick([0, random.int(1, 1500)]) : null,
      }
    : null;
  const watcher = random.chance(0.3)
    ? { afterMs: random.int(0, 3000), after: random.chance(0.2) ? random.int(1, 3) : 0 }
    : null;
  const droppers = random.chance(0.25)
    ? Array.from({ length: random.int(1, 3) }, () => ({
        atMs: random.int(0, 5000),
        forMs: random.pick([0, random.int(1, 3000)]),
      }))
    : [];
  return {
    index,
    tag,
    kind,
    command,
    stdout,
    stderr,
    exitCode,
    timeoutSeconds,
    queue: false,
    fault,
    cancel,
    watcher,
    droppers,
  };
}
