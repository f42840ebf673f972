/** Structured logs: one JSON object per line, so Workers Logs and `wrangler tail` can filter them. */

type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Writes one log line. Never pass secrets (API keys, tokens) in `fields`. */
export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

/** A loggable description of an unknown thrown value. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { error: error.message, error_name: error.name };
  return { error: String(error) };
}
