/**
 * Toolbox process routes: one-shot `process/execute` and the session API.
 */
import { existsSync, statSync } from 'node:fs';
import { z } from 'zod';
import { HttpError } from './errors.ts';
import { readJson, sendEmpty, sendJson } from './http-util.ts';
import { resolveSandboxPath } from './paths.ts';
import { killGroup } from './processes.ts';
import { route, type Route, type RouteContext } from './router.ts';
import type { LocalSandbox } from './sandbox.ts';
import type { SessionCommand } from './session-command.ts';
import type { Session } from './sessions.ts';

/** Cap on the output captured by `process/execute`, so a runaway command cannot exhaust memory. */
const MAX_EXECUTE_OUTPUT = 10 * 1024 * 1024;

/** Resolves the sandbox of a toolbox request (running, activity recorded) or throws. */
export type SandboxLookup = (ctx: RouteContext) => LocalSandbox;

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

const ExecuteSchema = z.object({
  command: z.string(),
  cwd: z.string().optional(),
  envs: z.record(z.string(), z.string()).optional(),
  timeout: z.number().int().nonnegative().optional(),
});

const CreateSessionSchema = z.object({ sessionId: z.string().min(1) });

const SessionExecSchema = z.object({
  command: z.string(),
  runAsync: z.boolean().optional(),
  async: z.boolean().optional(),
  suppressInputEcho: z.boolean().optional(),
});

const InputSchema = z.object({ data: z.string() });

interface ExecuteResult {
  exitCode: number;
  result: string;
  timedOut: boolean;
}

/** Runs `bash -c command` in its own process group, capturing stdout+stderr combined. */
function execute(
  sandbox: LocalSandbox,
  command: string,
  cwd: string,
  envs: Record<string, string>,
  timeoutSeconds: number,
): Promise<ExecuteResult> {
  return new Promise((resolve) => {
    const child = sandbox.processes.spawn('bash', ['-c', command], cwd, sandbox.env(envs));
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    const collect = (chunk: Buffer): void => {
      if (size >= MAX_EXECUTE_OUTPUT) {
        truncated = true;
        return;
      }
      const part = chunk.subarray(0, MAX_EXECUTE_OUTPUT - size);
      chunks.push(part);
      size += part.length;
      if (part.length < chunk.length) truncated = true;
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let timedOut = false;
    const timer =
      timeoutSeconds > 0
        ? setTimeout(() => {
            timedOut = true;
            killGroup(child.pid);
          }, timeoutSeconds * 1000)
        : undefined;
    const output = (): string => {
      const text = Buffer.concat(chunks).toString('utf8');
      return truncated
        ? `${text}\n[local-daytona: output truncated at ${MAX_EXECUTE_OUTPUT} bytes]\n`
        : text;
    };
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ exitCode: -1, result: err.message, timedOut: false });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      // Go's ProcessState.ExitCode() is -1 for a signal death; the daemon reports that.
      resolve({ exitCode: code ?? -1, result: output(), timedOut });
    });
  });
}

function sessionDto(session: Session): Record<string, unknown> {
  return {
    sessionId: session.id,
    commands: [...session.commands.values()].map((c) => ({
      id: c.id,
      command: c.command,
      ...(c.exitCode !== undefined && { exitCode: c.exitCode }),
    })),
  };
}

/** Builds the process and session routes (paths relative to `/toolbox`). */
export function processRoutes(lookup: SandboxLookup): Route[] {
  const session = (ctx: RouteContext): Session =>
    lookup(ctx).sessions.get(ctx.params['sessionId'] ?? '');
  const command = (ctx: RouteContext): SessionCommand => {
    const cmd = session(ctx).commands.get(ctx.params['commandId'] ?? '');
    if (!cmd) throw new HttpError(404, 'command not found', 'NOT_FOUND');
    return cmd;
  };
  return [
    route('POST', '/:sandboxId/process/execute', async (ctx) => {
      const sandbox = lookup(ctx);
      const body = await readJson(ctx.req, ExecuteSchema);
      if (body.command.trim() === '') {
        throw new HttpError(400, 'command cannot be empty or whitespace-only');
      }
      const envs = body.envs ?? {};
      const badKey = Object.keys(envs).find((k) => !ENV_KEY.test(k));
      if (badKey !== undefined)
        throw new HttpError(400, `invalid environment variable name: ${badKey}`);
      const cwd =
        body.cwd === undefined ? sandbox.fs.workDir : resolveSandboxPath(sandbox.fs, body.cwd);
      if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
        // The daemon reports a failed start as exit code -1 with the error as the result.
        sendJson(ctx.res, 200, {
          exitCode: -1,
          result: `chdir ${body.cwd}: no such file or directory`,
        });
        return;
      }
      const result = await execute(sandbox, body.command, cwd, envs, body.timeout ?? 0);
      if (result.timedOut) {
        throw new HttpError(408, 'command execution timeout', 'PROCESS_EXECUTION_TIMEOUT');
      }
      sendJson(ctx.res, 200, { exitCode: result.exitCode, result: result.result });
    }),
    route('GET', '/:sandboxId/process/session', (ctx) => {
      sendJson(ctx.res, 200, lookup(ctx).sessions.list().map(sessionDto));
    }),
    route('POST', '/:sandboxId/process/session', async (ctx) => {
      const sandbox = lookup(ctx);
      const { sessionId } = await readJson(ctx.req, CreateSessionSchema);
      sandbox.sessions.create(sessionId);
      sendJson(ctx.res, 201, {});
    }),
    route('GET', '/:sandboxId/process/session/:sessionId', (ctx) => {
      sendJson(ctx.res, 200, sessionDto(session(ctx)));
    }),
    route('DELETE', '/:sandboxId/process/session/:sessionId', (ctx) => {
      lookup(ctx).sessions.delete(ctx.params['sessionId'] ?? '');
      sendEmpty(ctx.res, 204);
    }),
    route('POST', '/:sandboxId/process/session/:sessionId/exec', async (ctx) => {
      const sandbox = lookup(ctx);
      const target = sandbox.sessions.get(ctx.params['sessionId'] ?? '');
      const body = await readJson(ctx.req, SessionExecSchema);
      if (body.command.trim() === '') throw new HttpError(400, 'command cannot be empty');
      const runAsync = body.runAsync === true || body.async === true;
      const cmd = target.exec(body.command, runAsync);
      sandbox.sessionCommands++; // Counted once started: tests prove "at most once" with it.
      if (runAsync) {
        const empty = { output: null, stdout: null, stderr: null, exitCode: null };
        sendJson(ctx.res, 202, { cmdId: cmd.id, ...empty });
        return;
      }
      await cmd.whenDone();
      const logs = await cmd.logs();
      sendJson(ctx.res, 200, { cmdId: cmd.id, ...logs, exitCode: cmd.exitCode ?? null });
    }),
    route('GET', '/:sandboxId/process/session/:sessionId/command/:commandId', (ctx) => {
      const cmd = command(ctx);
      sendJson(ctx.res, 200, {
        id: cmd.id,
        command: cmd.command,
        ...(cmd.exitCode !== undefined && { exitCode: cmd.exitCode }),
      });
    }),
    route('GET', '/:sandboxId/process/session/:sessionId/command/:commandId/logs', async (ctx) => {
      sendJson(ctx.res, 200, await command(ctx).logs());
    }),
    route(
      'POST',
      '/:sandboxId/process/session/:sessionId/command/:commandId/input',
      async (ctx) => {
        const cmd = command(ctx);
        const { data } = await readJson(ctx.req, InputSchema);
        session(ctx).sendInput(cmd, data);
        sendEmpty(ctx.res, 204);
      },
    ),
  ];
}
