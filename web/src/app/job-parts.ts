/**
 * The job page's status timeline and cost ledger, each redrawn whole from the job as the API
 * answers it (and the status events of its stream, which carry the same times).
 */
import type { components } from '../../../client/index.ts';
import { isFinalStatus, jobStatuses } from '../../../worker/domain/jobs.ts';
import { el, formatDuration, formatTime, formatUsd } from './dom.ts';

export type Job = components['schemas']['Job'];
export type JobStatus = components['schemas']['JobStatus'];
type JobCost = components['schemas']['JobCost'];

/** Every status in lifecycle order, and the final ones (the API's own lists). */
export const JOB_STATUSES: readonly JobStatus[] = jobStatuses;
export const FINAL_STATUSES: readonly JobStatus[] = jobStatuses.filter(isFinalStatus);

const STEPS = [
  { label: 'queued', at: (j: Job) => j.created_at },
  { label: 'provisioning', at: (j: Job) => j.provisioning_at },
  { label: 'cloning', at: (j: Job) => j.cloning_at },
  { label: 'running', at: (j: Job) => j.running_at },
] as const;

/** The timeline: queued → provisioning → cloning → running → the end, with times. */
export function renderTimeline(job: Job): HTMLElement {
  const ended = FINAL_STATUSES.includes(job.status);
  const created = Date.parse(job.created_at);
  const since = (iso: string | null) =>
    iso ? ` (+${formatDuration(Math.max(0, Date.parse(iso) - created))})` : '';
  const items = STEPS.map((step) => {
    const at = step.at(job);
    const state = job.status === step.label ? 'current' : at ? 'done' : 'skipped';
    return el(
      'li',
      { class: `step ${ended && !at ? 'skipped' : state}`, 'data-step': step.label },
      [
        el('span', { class: 'step-name' }, [step.label]),
        el('time', {}, [at ? formatTime(at) + (step.label === 'queued' ? '' : since(at)) : '–']),
      ],
    );
  });
  const end = ended
    ? el('li', { class: `step done end ${job.status}`, 'data-step': 'end' }, [
        el('span', { class: 'step-name' }, [job.status]),
        el('time', {}, [formatTime(job.finished_at) + since(job.finished_at)]),
      ])
    : el('li', { class: 'step pending', 'data-step': 'end' }, [
        el('span', { class: 'step-name' }, ['end']),
        el('time', {}, ['–']),
      ]);
  return el('ol', { class: 'timeline', 'data-testid': 'timeline' }, [...items, end]);
}

/** The cost ledger: tokens at the configured prices, sandbox time, and the total. */
export function renderCost(job: Job): HTMLElement {
  const c: JobCost = job.cost;
  const tokens = `${c.input_tokens} in, ${c.output_tokens} out, ${c.cache_write_tokens} cache write, ${c.cache_read_tokens} cache read`;
  const rows: [string, string, string][] = [];
  // A command job has no tokens: its line would only ever say 0.
  if (job.kind === 'agent' || c.llm_usd !== 0) {
    rows.push(['Agent tokens', tokens, formatUsd(c.llm_usd)]);
    for (const [model, u] of Object.entries(job.agent?.usage ?? {})) {
      rows.push([
        `↳ ${model}`,
        `${u.input_tokens} in, ${u.output_tokens} out, ${u.cache_write_tokens} cache write, ${u.cache_read_tokens} cache read`,
        `${formatUsd(u.reported_cost_usd)} reported`,
      ]);
    }
  }
  rows.push(['Sandbox', `${c.sandbox_seconds} s`, formatUsd(c.sandbox_usd)]);
  const body = rows.map(([what, amount, usd]) =>
    el('tr', {}, [
      el('th', { scope: 'row' }, [what]),
      el('td', {}, [amount]),
      el('td', { class: 'usd' }, [usd]),
    ]),
  );
  return el('table', { class: 'cost', 'data-testid': 'cost' }, [
    el('tbody', {}, body),
    el('tfoot', {}, [
      el('tr', {}, [
        el('th', { scope: 'row' }, ['Total']),
        el('td', { class: 'muted' }, [
          c.price_table ? `prices ${c.price_table}` : '',
          c.reported_llm_usd ? `, CLI reported ${formatUsd(c.reported_llm_usd)}` : '',
        ]),
        el('td', { class: 'usd', 'data-testid': 'cost-total' }, [formatUsd(c.total_usd)]),
      ]),
    ]),
  ]);
}
