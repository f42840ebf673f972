/**
 * Where `omni login` keeps the API's URL and key: `$XDG_CONFIG_HOME/omni/config.json`, or
 * `~/.config/omni/config.json`, readable by its owner only (0600, in a 0700 directory).
 * `OMNI_URL` and `OMNI_API_KEY` override what the file says.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError } from './errors.ts';

/** What a command needs to call the API. */
export interface Credentials {
  url: string;
  apiKey: string;
}

/** The config directory of the user, as the XDG Base Directory specification places it. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  // The specification says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.config');
  return path.join(base, 'omni');
}

export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(configDir(env), 'config.json');
}

/** The stored credentials, or null when there is no file (or it holds something else). */
export async function readConfig(file = configFile()): Promise<Partial<Credentials>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return {};
    const url = 'url' in parsed && typeof parsed.url === 'string' ? parsed.url : undefined;
    const apiKey =
      'apiKey' in parsed && typeof parsed.apiKey === 'string' ? parsed.apiKey : undefined;
    return { url, apiKey };
  } catch {
    throw new UsageError(`${file} is not valid JSON: run omni login again, or fix the file.`);
  }
}

/**
 * Writes the credentials with owner-only permissions. The file is written next to its final
 * name and renamed over it, so a reader never sees half a file, and the key is never readable
 * by others, not even for a moment (the mode is set when the file is created).
 */
export async function writeConfig(credentials: Credentials, file = configFile()): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing directory's mode alone, and the umask may have narrowed a new one.
  await chmod(dir, 0o700);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** A URL the CLI can call: absolute http(s), without a trailing slash. */
export function normaliseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new UsageError(`${raw} is not a URL (for example https://omni.example.com).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${raw} must start with https:// (or http:// for a local API).`);
  }
  return url.href.replace(/\/+$/, '');
}

/** The credentials every API command uses: the environment's, else the config file's. */
export async function loadCredentials(env: NodeJS.ProcessEnv = process.env): Promise<Credentials> {
  const stored = await readConfig(configFile(env));
  const url = env.OMNI_URL || stored.url;
  const apiKey = env.OMNI_API_KEY || stored.apiKey;
  if (!url || !apiKey) {
    throw new UsageError('Not logged in: run omni login (or set OMNI_URL and OMNI_API_KEY).');
  }
  return { url: normaliseUrl(url), apiKey };
}
