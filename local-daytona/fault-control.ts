/**
 * The fault controls as tests see them (`LocalDaytona.faults`), the acts of Daytona they can
 * trigger on a sandbox: losing it (deleted behind the client's back) and stopping it (as the
 * auto-stop would), both killing its processes as the real platform does, and which sandbox a
 * request is about, for rules limited to one.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { HttpError } from './errors.ts';
import type { FaultRuleInput, FaultRuleStatus } from './fault-rules.ts';
import { MAX_JSON_BODY, readBody } from './http-util.ts';
import type { LocalSandbox, LocalSandboxState } from './sandbox.ts';
import type { SandboxRegistry } from './sandboxes.ts';

/** A sandbox after a lose or stop. */
export interface SandboxOutcome {
  id: string;
  name: string;
  state: LocalSandboxState;
}

/** What the fault set needs to know about, and do to, sandboxes. */
export interface SandboxHooks {
  /** The id and name of the live sandbox with this id or name. */
  identify(idOrName: string): { id: string; name: string } | undefined;
  /** Destroys the sandbox behind the API's back; throws the API's 404 if there is none. */
  lose(idOrName: string): Promise<SandboxOutcome>;
  /** Stops the sandbox as its auto-stop would; throws 404, or 409 unless it is started. */
  stop(idOrName: string): Promise<SandboxOutcome>;
}

/** The fault controls a Node test gets on `LocalDaytona.faults`. */
export interface FaultControl {
  /** Validates and installs rules (throws a ZodError on a bad one); returns them with ids. */
  add(...rules: FaultRuleInput[]): FaultRuleStatus[];
  /** Removes one rule and releases what it holds; false if there is no such rule. */
  remove(id: string): boolean;
  /** Removes every rule and releases what they hold; returns how many there were. */
  clear(): number;
  list(): FaultRuleStatus[];
  /**
   * The sandbox vanishes now, as if Daytona deleted it: processes killed, 404 from then on.
   * Rejects with a 404 HttpError if there is no such sandbox.
   */
  loseSandbox(idOrName: string): Promise<SandboxOutcome>;
  /**
   * The sandbox stops now, as if auto-stopped: processes killed, `stopped` (an ephemeral one is
   * deleted). Rejects with a 404 HttpError if there is none, 409 if it is not `started`.
   */
  stopSandbox(idOrName: string): Promise<SandboxOutcome>;
}

function outcome(sandbox: LocalSandbox): SandboxOutcome {
  return { id: sandbox.id, name: sandbox.spec.name, state: sandbox.state };
}

/** The sandbox hooks of a registry. */
export function sandboxHooks(registry: SandboxRegistry): SandboxHooks {
  return {
    identify: (idOrName) => {
      try {
        const sandbox = registry.find(idOrName);
        return { id: sandbox.id, name: sandbox.spec.name };
      } catch {
        return undefined; // Not a live sandbox: rules naming it cannot match by its other key.
      }
    },
    lose: async (idOrName) => {
      const sandbox = registry.find(idOrName);
      await registry.destroy(sandbox);
      return outcome(sandbox);
    },
    stop: async (idOrName) => {
      const sandbox = registry.find(idOrName);
      if (sandbox.state !== 'started') {
        throw new HttpError(409, `Sandbox ${sandbox.id} is not started (state: ${sandbox.state})`);
      }
      // The same path as the auto-stop timer, so ephemeral sandboxes are deleted on the way.
      await registry.stop(sandbox);
      return outcome(sandbox);
    },
  };
}

const CreateBody = z.looseObject({ name: z.string() });

/**
 * The sandbox id or name a request is about: the one its path names or, for a create, the `name`
 * in its body, so that tests running side by side can aim a create fault at their own sandbox.
 * The body is read here and handed to the create handler again by readBody.
 */
export async function requestSandbox(
  req: IncomingMessage,
  pathname: string,
  params: Readonly<Record<string, string>>,
): Promise<string | undefined> {
  if (params['sandboxId'] !== undefined) return params['sandboxId'];
  if (pathname.startsWith('/api/sandbox/')) return params['id'];
  if (req.method !== 'POST' || !/^\/api\/sandbox\/?$/.test(pathname)) return undefined;
  try {
    const body: unknown = JSON.parse((await readBody(req, MAX_JSON_BODY)).toString('utf8'));
    return CreateBody.safeParse(body).data?.name;
  } catch {
    return undefined; // Too big or not JSON: the handler will say so.
  }
}
