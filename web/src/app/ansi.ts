/**
 * ANSI colours without inline styles. ansi_up turns escape sequences into HTML and escapes the
 * text; its 16 colours come out as classes (app.css), but 256-colour and true-colour values and
 * bold, faint, italic and underline come out as `style="…"` attributes, which the page's CSP
 * (no 'unsafe-inline') refuses to apply when HTML is parsed. So those attributes are renamed
 * before parsing (`data-ansi-style`: every `"` of the text is escaped by ansi_up, so the only
 * ` style="` in its output are its own), and applied afterwards through the CSSOM
 * (`element.style.setProperty`), which a CSP does not restrict.
 */
import { AnsiUp } from 'ansi_up';

const STYLE_ATTRIBUTE = / style="([^"]*)"/g;
const RENAMED = 'data-ansi-style';

/** Renders text with escape sequences, starting from the SGR state `state`, into `target`. */
export function renderAnsi(target: HTMLElement, state: string, text: string): void {
  if (state === '' && !text.includes('\x1b')) {
    // Most lines: no colour at all. textContent needs no escaping.
    target.textContent = text;
    return;
  }
  // A fresh converter per line: the state comes from the line's start state alone, and no
  // unfinished escape sequence of another line lingers in its buffer.
  const converter = new AnsiUp();
  converter.use_classes = true;
  const html = converter.ansi_to_html(state + text).replace(STYLE_ATTRIBUTE, ` ${RENAMED}="$1"`);
  target.innerHTML = html;
  for (const element of target.querySelectorAll<HTMLElement>(`[${RENAMED}]`)) {
    for (const declaration of (element.getAttribute(RENAMED) ?? '').split(';')) {
      const colon = declaration.indexOf(':');
      if (colon > 0) {
        element.style.setProperty(
          declaration.slice(0, colon).trim(),
          declaration.slice(colon + 1).trim(),
        );
      }
    }
    element.removeAttribute(RENAMED);
  }
  for (const link of target.querySelectorAll('a')) link.rel = 'noopener noreferrer';
}
