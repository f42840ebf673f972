/**
 * The jobs list (#/?status=…&limit=…): newest first, 20 a page unless `limit` says otherwise,
 * filtered by status, paged with the API's cursor (a stack of the cursors seen, for "Previous").
 */
import { unwrap } from '../../../client/index.ts';
import { el, formatDuration, formatTime, formatUsd } from './dom.ts';
import { describe } from './job-page.ts';
import { JOB_STATUSES, type Job, type JobStatus } from './job-parts.ts';
import type { Session } from './session.ts';

export interface ListOptions {
  status: JobStatus | undefined;
  /** Jobs a page, 1 to 100. */
  limit: number;
}

export const DEFAULT_PAGE_SIZE = 20;

function summary(job: Job): string {
  const text = job.agent?.prompt ?? job.command;
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function row(job: Job): HTMLElement {
  return el('tr', { 'data-job': job.id, 'data-status': job.status }, [
    el('td', {}, [el('a', { href: `#/jobs/${job.id}` }, [job.id])]),
    el('td', {}, [el('span', { class: `badge ${job.status}` }, [job.status])]),
    el('td', {}, [job.kind]),
    el('td', { class: 'command' }, [summary(job)]),
    el('td', {}, [formatTime(job.created_at)]),
    el('td', {}, [job.duration_ms === null ? '–' : formatDuration(job.duration_ms)]),
    el('td', { class: 'usd' }, [formatUsd(job.cost.total_usd)]),
  ]);
}

/** Shows the jobs list in `root`, filtered by `status` (none: every job). */
export function showJobs(session: Session, options: ListOptions, root: HTMLElement): void {
  const { status, limit } = options;
  const filter = el('select', { 'aria-label': 'Status', 'data-testid': 'status-filter' }, [
    el('option', { value: '' }, ['every status']),
    ...JOB_STATUSES.map((s) => el('option', { value: s }, [s])),
  ]);
  filter.value = status ?? '';
  filter.addEventListener('change', () => {
    const query = new URLSearchParams();
    if (filter.value) query.set('status', filter.value);
    if (limit !== DEFAULT_PAGE_SIZE) query.set('limit', String(limit));
    location.hash = query.size > 0 ? `#/?${query}` : '#/';
  });
  const refresh = el('button', { type: 'button' }, ['Refresh']);
  const body = el('tbody', { 'data-testid': 'jobs' });
  const message = el('p', { class: 'message', role: 'status' });
  const previous = el('button', { type: 'button', disabled: '' }, ['Previous']);
  const next = el('button', { type: 'button', disabled: '' }, ['Next']);
  root.replaceChildren(
    el('header', { class: 'list-header' }, [el('h1', {}, ['Jobs']), filter, refresh]),
    message,
    el('table', { class: 'jobs' }, [
      el('thead', {}, [
        el(
          'tr',
          {},
          ['Job', 'Status', 'Kind', 'Command', 'Created', 'Duration', 'Cost'].map((h) =>
            el('th', { scope: 'col' }, [h]),
          ),
        ),
      ]),
      body,
    ]),
    el('nav', { class: 'pager' }, [previous, next]),
  );

  // cursors[i] is the cursor of page i (page 0 has none); `page` is the one shown.
  const cursors: (string | undefined)[] = [undefined];
  let page = 0;
  const load = async () => {
    message.textContent = 'Loading…';
    try {
      const result = await unwrap(
        session.client.GET('/v1/jobs', {
          params: { query: { limit, status, cursor: cursors[page] } },
        }),
      );
      body.replaceChildren(...result.data.map(row));
      message.textContent = result.data.length === 0 ? 'No jobs.' : '';
      cursors[page + 1] = result.next_cursor ?? undefined;
      next.disabled = result.next_cursor === null;
      previous.disabled = page === 0;
    } catch (error) {
      message.textContent = describe(error);
    }
  };
  next.addEventListener('click', () => {
    page++;
    void load();
  });
  previous.addEventListener('click', () => {
    page = Math.max(0, page - 1);
    void load();
  });
  refresh.addEventListener('click', () => void load());
  void load();
}
