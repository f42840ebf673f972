/**
 * Structured logs: one JSON object per line, so Workers Logs and `wrangler tail` can filter them.
 * The `LOG_LEVEL` setting (debug, info, warn or error; default info) drops the lines below it.
 * It is read from the Worker's bindings at each call (`env` of `cloudflare:workers`, the same for
 * the Worker and its Durable Objects), so no caller has to pass it along.
 */
import { env } from 'cloudflare:workers';
import { scrubText, secretValues } from './scrub.ts';

/** How important a log line is, least first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

const DEFAULT_LEVEL: LogLevel = 'info';

/** The level a `LOG_LEVEL` value names, or null if it names none (case and spaces ignored). */
export function parseLogLevel(value: unknown): LogLevel | null {
  if (typeof value !== 'string') return null;
  const level = value.trim().toLowerCase();
  return level === 'debug' || level === 'info' || level === 'warn' || level === 'error'
    ? level
    : null;
}

/** The `LOG_LEVEL` value this isolate already warned about, so the warning is written once. */
let warnedAbout: string | null = null;

/**
 * The lowest level written. An unset or empty setting means info; an invalid one also means
 * info (logging must not stop over a typo), and a warning line names the setting once.
 */
function threshold(): LogLevel {
  const raw = 'LOG_LEVEL' in env ? env.LOG_LEVEL : undefined;
  if (raw === undefined || raw === null || raw === '') return DEFAULT_LEVEL;
  const level = parseLogLevel(raw);
  if (level !== null) return level;
  const shown = String(raw).slice(0, 40);
  if (warnedAbout !== shown) {
    warnedAbout = shown;
    write('warn', 'the setting LOG_LEVEL is invalid; logging at info', {
      setting: 'LOG_LEVEL',
      expected: 'debug, info, warn or error',
    });
  }
  return DEFAULT_LEVEL;
}

function write(level: LogLevel, msg: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

/**
 * Writes one log line, unless `level` is below LOG_LEVEL. Never pass secrets (API keys, tokens,
 * secret values, prompts) in `fields`.
 */
export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  if (RANK[level] < RANK[threshold()]) return;
  write(level, msg, fields);
}

/**
 * A loggable description of an unknown thrown value. Its message is scrubbed (scrub.ts): it may
 * quote an upstream answer or a URL, and no credential may reach a log line.
 */
export function errorFields(error: unknown): Record<string, unknown> {
  const scrub = (text: string) => scrubText(text, secretValues(env));
  if (error instanceof Error) return { error: scrub(error.message), error_name: error.name };
  return { error: scrub(String(error)) };
}
