/**
 * Quoting for the shell lines the Job DO sends to the sandbox (the job's command, the clone).
 * Daytona runs them with a shell, so every word that comes from a job or a setting is quoted.
 */

/** Quotes `value` as one word for a POSIX shell: single quotes, each `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The words of a command line, each quoted. */
export function shellWords(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
