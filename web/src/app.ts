/**
 * The web view at /app: sign-in with an API key, the jobs list and the job page, routed by the
 * URL's hash (#/, #/?status=running, #/jobs/<id>) so that no server routing is needed
 * (/app/jobs/<id>, the link GitHub check runs carry, redirects to #/jobs/<id>: _redirects).
 */
import { createOmniClient, unwrap } from '../../client/index.ts';
import { el } from './app/dom.ts';
import { describe, showJob } from './app/job-page.ts';
import { JOB_STATUSES } from './app/job-parts.ts';
import { DEFAULT_PAGE_SIZE, showJobs } from './app/jobs-list.ts';
import { currentSession, signIn, signOut } from './app/session.ts';

const main = document.querySelector('main') ?? document.body.appendChild(el('main'));
const account = document.getElementById('account');
let leave: (() => void) | undefined;

/** Why the API refuses `apiKey` (its problem's detail and request id), or null if it takes it. */
async function checkKey(apiUrl: string, apiKey: string): Promise<string | null> {
  try {
    const client = createOmniClient({ baseUrl: apiUrl, apiKey });
    await unwrap(client.GET('/v1/jobs', { params: { query: { limit: 1 } } }));
    return null;
  } catch (problem) {
    return describe(problem);
  }
}

function showSignIn(): void {
  const url = el('input', {
    name: 'url',
    type: 'url',
    required: '',
    value: location.origin,
    autocomplete: 'url',
  });
  const key = el('input', {
    name: 'key',
    type: 'password',
    required: '',
    placeholder: 'omni_…',
    autocomplete: 'off',
  });
  const error = el('p', { class: 'message', role: 'alert', 'data-testid': 'sign-in-error' });
  const form = el('form', { class: 'sign-in' }, [
    el('h1', {}, ['Sign in']),
    el('label', {}, ['API URL', url]),
    el('label', {}, ['API key', key]),
    el('p', { class: 'muted' }, [
      'The key stays in this tab (session storage) and is sent only to the API, as a bearer token.',
    ]),
    error,
    el('button', { type: 'submit' }, ['Sign in']),
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    void checkKey(url.value, key.value.trim()).then((problem) => {
      if (problem) {
        error.textContent = problem;
        return;
      }
      signIn(url.value, key.value.trim());
      route();
    });
  });
  main.replaceChildren(form);
}

function route(): void {
  leave?.();
  leave = undefined;
  const session = currentSession();
  if (account) {
    account.replaceChildren();
    if (session) {
      const out = el('button', { type: 'button' }, ['Sign out']);
      out.addEventListener('click', () => {
        signOut();
        route();
      });
      account.append(el('span', { class: 'muted' }, [session.apiUrl]), out);
    }
  }
  if (!session) return showSignIn();
  const hash = location.hash.replace(/^#/, '') || '/';
  const job = /^\/jobs\/(job_[0-9a-f]{32})$/.exec(hash);
  if (job?.[1]) {
    leave = showJob(session, job[1], main);
    return;
  }
  const query = new URLSearchParams(hash.split('?')[1] ?? '');
  const limit = Number(query.get('limit') ?? DEFAULT_PAGE_SIZE);
  showJobs(
    session,
    {
      status: JOB_STATUSES.find((s) => s === query.get('status')),
      limit: Number.isInteger(limit) && limit >= 1 && limit <= 100 ? limit : DEFAULT_PAGE_SIZE,
    },
    main,
  );
}

window.addEventListener('hashchange', route);
route();
