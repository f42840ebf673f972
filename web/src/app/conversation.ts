/**
 * An agent job's conversation, from its `agent` events (docs/agents.md#events): the session,
 * the agent's text, each tool call with its result under it (matched by `tool_use_id`), API
 * retries and the final result. Text is set as text, never parsed as HTML.
 */
import { el, formatDuration, formatUsd } from './dom.ts';

type Fields = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** What a tool call is about, for its folded line: its input's first string (a command, a path). */
function gist(input: string): string {
  try {
    const parsed: unknown = JSON.parse(input);
    if (typeof parsed === 'object' && parsed !== null) {
      const first = Object.values(parsed).find((v): v is string => typeof v === 'string');
      if (first) return first.length > 120 ? `${first.slice(0, 119)}…` : first;
    }
  } catch {
    // Cut or not JSON: no gist.
  }
  return '';
}

/** Pretty JSON when the text is JSON, the text as it is otherwise. */
function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export class Conversation {
  readonly element = el('section', { class: 'conversation', 'data-testid': 'conversation' });
  private readonly list = el('ol', { class: 'turns' });
  private readonly calls = new Map<string, HTMLElement>();
  private count = 0;

  constructor() {
    this.element.append(el('h2', {}, ['Conversation']), this.list);
    this.element.hidden = true;
  }

  /** Adds one agent event (the `agent` field of an `agent` event). */
  add(agent: Fields): void {
    const item = this.render(agent);
    if (!item) return;
    this.element.hidden = false;
    this.count++;
    this.list.append(item);
  }

  get size(): number {
    return this.count;
  }

  private render(a: Fields): HTMLElement | null {
    const truncated = a.truncated === true ? [el('span', { class: 'muted' }, [' (cut)'])] : [];
    switch (a.kind) {
      case 'session_start': {
        const tools = Array.isArray(a.tools) ? a.tools.length : 0;
        return el('li', { class: 'turn session' }, [
          `Session started: ${str(a.model) || 'default model'}, ${tools} tools`,
        ]);
      }
      case 'text':
        return el('li', { class: 'turn text' }, [
          el('div', { class: 'who' }, ['Agent']),
          el('div', { class: 'body' }, [str(a.text), ...truncated]),
        ]);
      case 'tool_call': {
        const result = el('div', { class: 'tool-result pending' }, ['…']);
        const item = el('li', { class: 'turn tool' }, [
          el('details', {}, [
            el('summary', {}, [
              el('span', { class: 'tool-name' }, [str(a.name)]),
              el('code', { class: 'tool-gist' }, [gist(str(a.input))]),
            ]),
            el('pre', { class: 'tool-input' }, [pretty(str(a.input)), ...truncated]),
          ]),
          result,
        ]);
        const id = str(a.tool_use_id);
        if (id) this.calls.set(id, result);
        return item;
      }
      case 'tool_result': {
        const content = el('pre', {}, [str(a.content), ...truncated]);
        const target = this.calls.get(str(a.tool_use_id));
        const cls = a.is_error === true ? 'tool-result error' : 'tool-result';
        if (target) {
          target.className = cls;
          target.replaceChildren(content);
          return null;
        }
        return el('li', { class: 'turn tool' }, [el('div', { class: cls }, [content])]);
      }
      case 'api_retry':
        return el('li', { class: 'turn notice' }, [
          `API call retried (attempt ${num(a.attempt) ?? '?'} of ${num(a.max_retries) ?? '?'}${
            num(a.error_status) ? `, HTTP ${num(a.error_status)}` : ''
          })`,
        ]);
      case 'result': {
        const cost = num(a.total_cost_usd);
        const ms = num(a.duration_ms);
        const facts = [
          str(a.subtype),
          num(a.num_turns) === null ? '' : `${num(a.num_turns)} turns`,
          ms === null ? '' : formatDuration(ms),
          cost === null ? '' : `${formatUsd(cost)} reported`,
        ].filter(Boolean);
        return el('li', { class: a.is_error === true ? 'turn result error' : 'turn result' }, [
          el('div', { class: 'who' }, [`Result: ${facts.join(', ')}`]),
          el('div', { class: 'body' }, [str(a.result), ...truncated]),
        ]);
      }
      default:
        return null;
    }
  }
}
