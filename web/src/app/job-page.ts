/**
 * The job page (#/jobs/<id>): its header, status timeline, cost ledger, cancel button, agent
 * conversation and live log. The job is read once, then kept current by its stream's events;
 * while it runs it is read again every few seconds for its live cost.
 */
import { OmniApiError, unwrap } from '../../../client/index.ts';
import { Conversation } from './conversation.ts';
import { el } from './dom.ts';
import { FINAL_STATUSES, JOB_STATUSES, renderCost, renderTimeline, type Job } from './job-parts.ts';
import { LogStore } from './log-store.ts';
import { LogView } from './log-view.ts';
import { mayCancel, type Session } from './session.ts';
import { JobStream, type JobEvent, type StreamState } from './stream.ts';

/** How often a running job is read again, for its cost. */
const REFRESH_MS = 5000;

const rank = (status: Job['status']) => JOB_STATUSES.indexOf(status);

function isFinal(job: Job): boolean {
  return FINAL_STATUSES.includes(job.status);
}

/** Shows job `id` in `root`; returns what stops its stream and timers. */
export function showJob(session: Session, id: string, root: HTMLElement): () => void {
  const store = new LogStore();
  const view = new LogView(store);
  const conversation = new Conversation();
  const title = el('h1', {}, [id]);
  const badge = el('span', { class: 'badge', 'data-testid': 'status' }, ['…']);
  const facts = el('dl', { class: 'facts' });
  const timeline = el('div', {});
  const cost = el('div', {});
  const message = el('p', { class: 'message', role: 'status' });
  const logTitle = el('span', {}, ['Log']);
  const streamState = el('span', { class: 'stream-state', 'data-testid': 'stream-state' });
  const cancel = el('button', { type: 'button', class: 'danger', hidden: '' }, ['Cancel job']);
  cancel.dataset.testid = 'cancel';
  root.replaceChildren(
    el('p', {}, [el('a', { href: '#/' }, ['← Jobs'])]),
    el('header', { class: 'job-header' }, [title, badge, cancel]),
    message,
    facts,
    el('section', {}, [el('h2', {}, ['Timeline']), timeline]),
    el('section', {}, [el('h2', {}, ['Cost']), cost]),
    conversation.element,
    el('section', { class: 'log-section' }, [el('h2', {}, [logTitle, streamState]), view.element]),
  );

  let job: Job | null = null;
  let canCancel = false;
  let refresh: ReturnType<typeof setInterval> | undefined;

  const draw = () => {
    if (!job) return;
    badge.textContent = job.status;
    badge.className = `badge ${job.status}`;
    badge.dataset.status = job.status;
    const rows: [string, string][] = [
      ['Kind', job.kind],
      ['Repository', `${job.repo.url}${job.repo.ref ? ` @ ${job.repo.ref}` : ''}`],
      [job.kind === 'agent' ? 'Prompt' : 'Command', job.agent?.prompt ?? job.command],
      ['Exit code', job.exit_code === null ? '–' : String(job.exit_code)],
    ];
    if (job.error) rows.push(['Error', `${job.error.code}: ${job.error.message}`]);
    facts.replaceChildren(
      ...rows.flatMap(([name, value]) => [el('dt', {}, [name]), el('dd', {}, [value])]),
    );
    // An agent's raw output is its CLI's JSON lines; the conversation above is the readable form.
    logTitle.textContent = job.kind === 'agent' ? 'Raw output' : 'Log';
    timeline.replaceChildren(renderTimeline(job));
    cost.replaceChildren(renderCost(job));
    cancel.hidden = !canCancel || isFinal(job);
  };

  const load = async () => {
    try {
      const read = await unwrap(session.client.GET('/v1/jobs/{id}', { params: { path: { id } } }));
      // A read that left before the final event arrived must not undo it.
      if (job && isFinal(job) && !isFinal(read)) return;
      job = read;
      draw();
      if (isFinal(job)) clearInterval(refresh);
    } catch (error) {
      message.textContent = describe(error);
    }
  };

  const onEvent = (event: JobEvent) => {
    if (event.type === 'stdout' || event.type === 'stderr') {
      store.append(String(event.data ?? ''), event.type === 'stderr');
      view.schedule();
    } else if (event.type === 'truncated') {
      store.append(`\n[output cut at ${String(event.limit_bytes ?? '')} bytes]\n`, true);
      view.schedule();
    } else if (event.type === 'agent' && event.agent) {
      conversation.add(event.agent);
    } else if (event.type === 'status' && job) {
      const status = JOB_STATUSES.find((s) => s === event.status);
      // A replay starts from the first status: only a later one moves the job on.
      if (!status || isFinal(job) || rank(status) < rank(job.status)) return;
      job.status = status;
      if (status === 'provisioning' || status === 'cloning' || status === 'running') {
        job[`${status}_at`] = event.ts;
      }
      if (isFinal(job)) {
        job.finished_at = event.ts;
        // The final event says what the job cost; read the job for the rest (exit code, error).
        if (isCost(event.cost)) job.cost = event.cost;
        void load();
      }
      draw();
    } else if (event.type === 'exit' && job && typeof event.exit_code === 'number') {
      job.exit_code = event.exit_code;
      draw();
    }
  };

  const onState = (state: StreamState, detail?: string) => {
    streamState.textContent = state === 'ended' ? '' : state;
    streamState.dataset.state = state;
    if (detail) message.textContent = detail;
  };

  const stream = new JobStream(session, id, { onEvent, onState });
  cancel.addEventListener('click', () => {
    if (!confirm('Cancel this job? Its sandbox is deleted.')) return;
    cancel.disabled = true;
    void unwrap(session.client.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } }))
      .then((canceled) => {
        job = canceled;
        draw();
      })
      .catch((error: unknown) => {
        message.textContent = describe(error);
        cancel.disabled = false;
      });
  });

  void (async () => {
    await load();
    if (!job) return;
    stream.start();
    if (isFinal(job)) return;
    refresh = setInterval(() => void load(), REFRESH_MS);
    canCancel = await mayCancel(session).catch(() => false);
    cancel.dataset.allowed = String(canCancel);
    draw();
  })();

  return () => {
    stream.stop();
    clearInterval(refresh);
  };
}

/** True for a cost as the final status event carries it (the job answer's `cost`). */
function isCost(value: unknown): value is Job['cost'] {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).total_usd === 'number' &&
    typeof (value as Record<string, unknown>).sandbox_seconds === 'number'
  );
}

/** An error as a person reads it: the problem's detail and the request id to quote. */
export function describe(error: unknown): string {
  if (error instanceof OmniApiError) {
    return error.requestId ? `${error.detail} (request ${error.requestId})` : error.detail;
  }
  return error instanceof Error ? error.message : String(error);
}
