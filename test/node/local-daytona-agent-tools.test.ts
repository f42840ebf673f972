/**
 * The agent CLI local-daytona lends its sandboxes (local-daytona/agent-tools.ts): `claude` is on
 * a sandbox's PATH (the project's pinned one by default), nothing else of node_modules/.bin is,
 * and IS_SANDBOX=1 lets it run unattended as root.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Daytona, type Sandbox } from '@daytonaio/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalDaytona, type LocalDaytona } from '../../local-daytona/server.ts';

async function withServer<T>(
  claudePath: string | undefined,
  fn: (sandbox: Sandbox) => Promise<T>,
): Promise<T> {
  const server: LocalDaytona = await startLocalDaytona({
    apiKey: `test-${crypto.randomUUID()}`,
    ...(claudePath === undefined ? {} : { claudePath }),
  });
  const daytona = new Daytona({ apiKey: server.apiKey, apiUrl: server.apiUrl, target: 'us' });
  const sandbox = await daytona.create({ snapshot: 'omni-sandbox' });
  try {
    return await fn(sandbox);
  } finally {
    await sandbox.delete().catch(() => undefined);
    await daytona[Symbol.asyncDispose]();
    await server.close();
  }
}

/** Runs `command` in `sandbox` and returns its output. */
async function runIn(sandbox: Sandbox, command: string): Promise<string> {
  return (await sandbox.process.executeCommand(command)).result.trim();
}

describe('agent tools in local sandboxes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'omni-agent-tools-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("puts the project's pinned claude on the PATH, with IS_SANDBOX=1", async () => {
    const out = await withServer(undefined, (sandbox) =>
      runIn(
        sandbox,
        'claude --version; echo "sandbox=$IS_SANDBOX"; command -v vitest || echo none',
      ),
    );
    expect(out).toMatch(/^2\.1\.332 \(Claude Code\)/);
    expect(out).toContain('sandbox=1');
    // The rest of the project's node_modules/.bin stays off the sandbox PATH.
    expect(out.split('\n').at(-1)).toBe('none');
  });

  it('lends another binary when told to, and none when told so', async () => {
    const fake = path.join(dir, 'fake-claude');
    await writeFile(fake, '#!/bin/sh\necho fake claude\n');
    await chmod(fake, 0o755);
    expect(await withServer(fake, (sandbox) => runIn(sandbox, 'claude'))).toBe('fake claude');
    const none = await withServer('', (sandbox) =>
      runIn(sandbox, 'command -v claude || echo none'),
    );
    expect(none.split('\n').at(-1)).toBe('none');
  });
});
