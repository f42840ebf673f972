/**
 * Runs local-daytona as a child process (its CLI, local-daytona/main.ts) and reads the connection
 * details it prints. Used where loading it in-process is not possible: vitest's global setup of
 * the workerd project resolves modules with browser conditions, where `ws` has no server.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const main = fileURLToPath(new URL('../../local-daytona/main.ts', import.meta.url));

const readySchema = z.object({
  apiUrl: z.string(),
  toolboxUrl: z.string(),
  apiKey: z.string(),
  root: z.string(),
});

interface LocalDaytonaProcess extends z.infer<typeof readySchema> {
  close(): Promise<void>;
}

export async function spawnLocalDaytona(port = 0): Promise<LocalDaytonaProcess> {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, LOCAL_DAYTONA_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`local-daytona exited with code ${code}`)));
  });
  lines.close();
  const ready = readySchema.parse(JSON.parse(first));
  return {
    ...ready,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
