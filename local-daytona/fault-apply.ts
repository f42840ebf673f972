/**
 * What a fired fault rule does to one request: answer with an error, wait, never answer, drop
 * the connection, or take the sandbox away, either before the request is handled or (`after`)
 * once it has been, by intercepting the answer. Log-stream faults (cut-logs, hold-logs) act on
 * the websocket instead and live in logs-ws.ts; slow-start acts on the registry.
 */
import type { ServerResponse } from 'node:http';
import { errorBody, type ErrorFlavour } from './errors.ts';
import type { FaultRule } from './fault-rules.ts';
import type { FaultControl } from './fault-control.ts';
import type { FaultSet, FiredFault } from './faults.ts';
import { sendJson } from './http-util.ts';

/** How a fault reaches the client, for plain requests and websocket upgrades alike. */
export interface FaultOutlet {
  /** Answers with an error instead of handling the request. */
  answer(status: number, headers: Record<string, string>, body: unknown): void;
  /** Closes the connection without an answer. */
  drop(): void;
  /** Runs `listener` once the connection is gone. */
  onClose(listener: () => void): void;
}

/** The request a fault fired for. */
export interface FaultScene {
  readonly fired: FiredFault;
  readonly faults: FaultControl;
  readonly flavour: ErrorFlavour;
  readonly method: string;
  readonly path: string;
}

type FailRule = Extract<FaultRule, { action: 'fail' }>;

/** The outlet of a plain HTTP request. */
function httpOutlet(res: ServerResponse): FaultOutlet {
  return {
    answer: (status, headers, body) => sendJson(res, status, body, headers),
    drop: () => res.destroy(),
    onClose: (listener) => res.once('close', listener),
  };
}

/** The error answer of a `fail` rule: Daytona's error shape unless the rule brings a body. */
function failure(rule: FailRule, scene: FaultScene): [Record<string, string>, unknown] {
  const headers: Record<string, string> =
    rule.retryAfter === undefined ? {} : { 'retry-after': String(rule.retryAfter) };
  const message = rule.message ?? `injected fault (local-daytona rule ${scene.fired.id})`;
  const { flavour, path, method } = scene;
  return [headers, rule.body ?? errorBody(flavour, rule.status, message, path, method, rule.code)];
}

/** Never answers; resolves once the client gave up or the rule let go (dropping the line). */
function hang(fired: FiredFault, outlet: FaultOutlet): Promise<void> {
  return new Promise((resolve) => {
    const done = fired.hold(() => {
      outlet.drop();
      resolve();
    });
    outlet.onClose(() => {
      done();
      resolve();
    });
  });
}

/**
 * Waits `ms`; resolves true to go on handling. Removing the rule ends the wait early (the
 * slowness is over), closing the server drops the request instead (nothing is served then).
 */
function delay(fired: FiredFault, ms: number, outlet: FaultOutlet): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      done();
      resolve(true);
    }, ms);
    const done = fired.hold((why) => {
      clearTimeout(timer);
      if (why === 'closed') outlet.drop();
      resolve(why === 'removed');
    });
  });
}

/** Runs a sandbox fault; a sandbox that is already gone or not running is left as it is. */
async function actOnSandbox(scene: FaultScene, act: 'lose' | 'stop'): Promise<void> {
  const target = scene.fired.sandbox;
  if (target === undefined) return;
  const { faults } = scene;
  await (act === 'lose' ? faults.loseSandbox(target) : faults.stopSandbox(target)).catch(
    () => undefined,
  );
}

/**
 * Applies the part of a fault that comes before handling. Resolves true when the request is
 * to be handled now (possibly with an `after` part still to come), false when it is done with.
 */
export async function faultBefore(scene: FaultScene, outlet: FaultOutlet): Promise<boolean> {
  const { rule } = scene.fired;
  if ('after' in rule && rule.after === true) return true;
  switch (rule.action) {
    case 'fail':
      outlet.answer(rule.status, ...failure(rule, scene));
      return false;
    case 'drop':
      outlet.drop();
      return false;
    case 'hang':
      await hang(scene.fired, outlet);
      return false;
    case 'delay':
      return delay(scene.fired, rule.ms, outlet);
    case 'lose-sandbox':
      await actOnSandbox(scene, 'lose');
      return true;
    case 'stop-sandbox':
      await actOnSandbox(scene, 'stop');
      return true;
    default:
      return true;
  }
}

/**
 * Replaces `res`'s answer: the first time the handler starts one (every answer starts with
 * writeHead, explicitly or implicitly), `onHead` runs with the real methods restored, and
 * from then on the handler's writes go nowhere.
 */
function interceptAnswer(res: ServerResponse, onHead: () => void): void {
  const { writeHead, write, end } = res;
  res.writeHead = () => {
    Object.assign(res, { writeHead, write, end });
    onHead();
    res.writeHead = () => res;
    res.write = () => true;
    res.end = () => res;
    return res;
  };
}

/** HTTP only: arms the `after` part of a fault before the request is handled. */
function faultAfter(scene: FaultScene, res: ServerResponse): void {
  const { rule } = scene.fired;
  if (!('after' in rule) || rule.after !== true) return;
  const outlet = httpOutlet(res);
  switch (rule.action) {
    case 'fail':
      return interceptAnswer(res, () => outlet.answer(rule.status, ...failure(rule, scene)));
    case 'drop':
      return interceptAnswer(res, () => outlet.drop());
    case 'hang':
      return interceptAnswer(res, () => void hang(scene.fired, outlet));
    case 'lose-sandbox':
    case 'stop-sandbox': {
      const act = rule.action === 'lose-sandbox' ? 'lose' : 'stop';
      res.once('finish', () => void actOnSandbox(scene, act));
      return;
    }
  }
}

/** A plain HTTP request, as far as faults are concerned. */
interface HttpFaultRequest {
  readonly method: string;
  readonly path: string;
  /** The sandbox id or name the request is about, if any (see requestSandbox). */
  readonly sandbox: string | undefined;
  readonly flavour: ErrorFlavour;
}

/** Handles an authenticated HTTP request under the first fault rule that matches it, if any. */
export async function withFaults(
  faults: FaultSet,
  request: HttpFaultRequest,
  res: ServerResponse,
  handle: () => Promise<void> | void,
): Promise<void> {
  const { method, path, sandbox, flavour } = request;
  const fired = faults.match({ channel: 'http', method, path, sandbox });
  if (fired) {
    const scene: FaultScene = { fired, faults, flavour, method, path };
    if (!(await faultBefore(scene, httpOutlet(res)))) return;
    faultAfter(scene, res);
  }
  await handle();
}
