/**
 * The live log: a scrolling box that renders only the lines in view (plus a margin), however
 * many the store holds. Lines have one fixed height (no wrapping; long lines scroll sideways),
 * so line `i` sits at `i × height` and a spacer of `length × height` gives the scroll bar its
 * size. It follows the tail while the view is scrolled to the bottom, and stops following as
 * soon as the user scrolls up; scrolling back to the bottom (or "Follow") resumes.
 */
import { renderAnsi } from './ansi.ts';
import { el } from './dom.ts';
import type { LogStore } from './log-store.ts';

/** Lines rendered above and below the visible ones, so a small scroll shows no blank. */
const MARGIN = 20;

export class LogView {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rows: HTMLElement;
  private readonly followButton: HTMLButtonElement;
  private lineHeight = 0;
  private following = true;
  private frame = 0;
  /** What the rows show now: first line, count, and the store version they were drawn from. */
  private drawn = { first: -1, count: 0, version: -1 };

  private readonly store: LogStore;

  constructor(store: LogStore) {
    this.store = store;
    this.spacer = el('div', { class: 'log-spacer' });
    this.rows = el('div', { class: 'log-rows', 'data-testid': 'log-rows' });
    // Focusable, so that the keyboard scrolls it too.
    this.viewport = el(
      'div',
      { class: 'log-viewport', 'data-testid': 'log', tabindex: '0', 'aria-label': 'Job log' },
      [this.spacer, this.rows],
    );
    this.followButton = el('button', { type: 'button', class: 'log-follow', hidden: '' }, [
      'Follow the end',
    ]);
    this.followButton.addEventListener('click', () => {
      this.following = true;
      this.followButton.hidden = true;
      this.schedule();
    });
    this.element = el('div', { class: 'log' }, [this.viewport, this.followButton]);
    this.viewport.addEventListener('scroll', () => this.onScroll(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
  }

  /** True while the view follows new lines. */
  get isFollowing(): boolean {
    return this.following;
  }

  /** Draws the store's new lines at the next frame (many appends, one draw). */
  schedule(): void {
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.draw());
  }

  private onScroll(): void {
    const v = this.viewport;
    const atEnd = v.scrollTop + v.clientHeight >= v.scrollHeight - Math.max(2, this.lineHeight);
    if (atEnd !== this.following) {
      this.following = atEnd;
      this.followButton.hidden = atEnd;
    }
    this.schedule();
  }

  private measure(): number {
    if (this.lineHeight === 0) {
      const probe = el('div', { class: 'log-line' }, ['M']);
      this.rows.append(probe);
      this.lineHeight = probe.getBoundingClientRect().height || 16;
      probe.remove();
    }
    return this.lineHeight;
  }

  private draw(): void {
    this.frame = 0;
    const height = this.measure();
    const total = this.store.length;
    this.spacer.style.height = `${total * height}px`;
    this.viewport.dataset.lines = String(total);
    if (this.following) this.viewport.scrollTop = this.viewport.scrollHeight;
    const top = this.viewport.scrollTop;
    const first = Math.max(0, Math.floor(top / height) - MARGIN);
    const last = Math.min(total, Math.ceil((top + this.viewport.clientHeight) / height) + MARGIN);
    const { drawn } = this;
    if (
      drawn.first === first &&
      drawn.count === last - first &&
      drawn.version === this.store.version
    )
      return;
    this.rows.style.transform = `translateY(${first * height}px)`;
    // Reuse the rows of lines already drawn; only the last line of the store can have changed
    // since (an unterminated line that grew), so it is always drawn again.
    const kept = new Map<number, HTMLElement>();
    for (const row of Array.from(this.rows.children)) {
      const index = Number((row as HTMLElement).dataset.line);
      if (index >= first && index < last && index < total - 1) kept.set(index, row as HTMLElement);
    }
    const fragment = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      fragment.append(kept.get(i) ?? this.renderLine(i));
    }
    this.rows.replaceChildren(fragment);
    this.drawn = { first, count: last - first, version: this.store.version };
  }

  private renderLine(i: number): HTMLElement {
    const row = el('div', { class: this.store.isStderr(i) ? 'log-line stderr' : 'log-line' });
    row.dataset.line = String(i);
    renderAnsi(row, this.store.startState(i), this.store.line(i));
    return row;
  }
}
