/**
 * `POST /webhooks/github`: the GitHub App's deliveries (docs/github.md). In order:
 *
 * 1. the signature: `X-Hub-Signature-256` (HMAC-SHA256 of the raw body, `sha256=<hex>`) made with
 *    GITHUB_WEBHOOK_SECRET or, during a rotation, GITHUB_WEBHOOK_SECRET_PREVIOUS; without a
 *    matching one the answer is 401 and nothing is recorded;
 * 2. the payload, checked with zod (worker/github/payloads.ts): one that fails is recorded
 *    `invalid` and answered 400 naming what is wrong (never a 5xx, which GitHub would show as
 *    Omni's failure);
 * 3. the decision (worker/github/triggers.ts) from the payload, the installation's mapping and its
 *    project's allow-list;
 * 4. the delivery row (worker/db/github.ts claimDelivery): a redelivery of a delivery already
 *    recorded answers 200 and starts nothing;
 * 5. a trigger is handed to the installation's GitHubAppDO (`intake`), which answers at once and
 *    does the GitHub and Daytona side later: this request never calls either.
 *
 * If the hand-over fails, the delivery is recorded `failed` and answered 503: nothing was started,
 * and a redelivery from GitHub (the App's "Advanced" page, or its API) is handled in full.
 */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { verify } from '@octokit/webhooks-methods';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { claimDelivery, findInstallation, setDeliveryOutcome } from '../db/github.ts';
import { findProject } from '../db/projects.ts';
import {
  githubTriggers,
  type GitHubDeliveryRow,
  type GitHubInstallationRow,
} from '../db/schema.ts';
import { ApiError, type FieldError } from '../errors.ts';
import { loadGitHubAppIdentity, webhookSecrets } from '../github/config.ts';
import { isGitHubEvent, parsePayload, readEnvelope, type Envelope } from '../github/payloads.ts';
import { GitHubInstallationSettingsSchema } from '../github/settings.ts';
import {
  decideTrigger,
  type InstallationMapping,
  type TriggerDecision,
} from '../github/triggers.ts';
import {
  applyInstallationChange,
  installationChangeOf,
  installationReason,
  type InstallationChange,
} from '../github/installation-events.ts';
import { gitHubAppObjectName } from '../github/work.ts';
import { errorFields, log } from '../lib/log.ts';
import { problem } from '../schemas/responses.ts';
import type { AppEnv } from '../types.ts';

/** Where GitHub delivers; outside /v1, so API-key authentication does not apply. */
export const GITHUB_WEBHOOK_PATH = '/webhooks/github';

/** GitHub caps a delivery at 25 MB; what Omni reads of one is far smaller than this. */
export const MAX_GITHUB_BODY_BYTES = 1024 * 1024;

const SIGNATURE = /^sha256=[0-9a-f]{64}$/;
const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
const EVENT_NAME = /^[a-z_]{1,100}$/;

export const githubWebhookRoutes = new OpenAPIHono<AppEnv>();

/** An installation's mapping with its settings parsed (they were validated when written). */
export function toMapping(row: GitHubInstallationRow): InstallationMapping {
  return {
    installationId: row.installationId,
    tenantId: row.tenantId,
    projectId: row.projectId,
    settings: GitHubInstallationSettingsSchema.parse(JSON.parse(row.settings)),
  };
}

/**
 * The body as text if `signature` was made over its exact bytes with one of `secrets`, else null.
 * The comparison itself is @octokit/webhooks-methods' (Web Crypto's HMAC verify).
 */
async function signedBody(
  secrets: string[],
  raw: Uint8Array,
  signature: string | undefined,
): Promise<string | null> {
  if (signature === undefined || !SIGNATURE.test(signature) || raw.length === 0) return null;
  let text: string;
  try {
    // Not lossy: bytes that are not UTF-8 (which GitHub never sends) fail instead of changing.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return null;
  }
  for (const secret of secrets) {
    if (await verify(secret, text, signature)) return text;
  }
  return null;
}

/** A header that must be present and of `pattern`; its absence is a 400 naming it. */
function requiredHeader(c: Context<AppEnv>, name: string, pattern: RegExp): string {
  const value = c.req.header(name);
  if (value === undefined || !pattern.test(value)) {
    throw new ApiError('invalid_request', `The ${name} header is missing or malformed.`, [
      { path: name, message: 'is missing or malformed' },
    ]);
  }
  return value;
}

/** What the intake made of a delivery, and the tenant whose installation sent it (if mapped). */
type Decided =
  | {
      kind: 'decided';
      decision: TriggerDecision;
      tenantId: string | null;
      /** An installation delivery's change, carried out once the delivery is recorded. */
      change?: { change: InstallationChange; id: number; row: GitHubInstallationRow | null };
    }
  | { kind: 'invalid'; errors: FieldError[]; tenantId: string | null };

/** Looks up the installation's mapping and project and decides what the delivery asks for. */
async function decide(
  env: Env,
  event: string,
  body: unknown,
  envelope: Envelope,
  deliveryId: string,
  receivedAt: number,
): Promise<Decided> {
  const ignore = (reason: string, tenantId: string | null): Decided => ({
    kind: 'decided',
    decision: { kind: 'ignore', reason },
    tenantId,
  });
  const id = envelope.installationId;
  const row = id === null ? null : await findInstallation(env.DB, id);
  const tenantId = row?.tenantId ?? null;
  if (body === undefined) {
    return { kind: 'invalid', errors: [{ path: '(body)', message: 'is not JSON' }], tenantId };
  }
  if (event === 'ping') return ignore('ping: the webhook works', tenantId);
  if (!isGitHubEvent(event)) return ignore(`${event} is not an event Omni handles`, tenantId);
  const parsed = parsePayload(event, body);
  if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors, tenantId };
  const app = loadGitHubAppIdentity(env);
  if (parsed.value.event === 'installation') {
    const installation = parsed.value.payload.installation.id;
    const change = installationChangeOf(parsed.value.payload);
    if (change !== null) {
      const reason = installationReason(change, installation, row !== null);
      return {
        kind: 'decided',
        decision: { kind: 'ignore', reason },
        tenantId,
        change: { change, id: installation, row },
      };
    }
  }
  const mapping = row ? toMapping(row) : null;
  const project = mapping ? await findProject(env.DB, mapping.tenantId, mapping.projectId) : null;
  if (mapping && !project) {
    return ignore(
      `the mapped project ${mapping.projectId} no longer exists: map the installation again`,
      tenantId,
    );
  }
  const decision = decideTrigger({
    deliveryId,
    receivedAt,
    payload: parsed.value,
    mapping,
    allowList: project?.repoAllowList ?? [],
    app,
  });
  return { kind: 'decided', decision, tenantId };
}

function deliveryRow(
  fields: Pick<GitHubDeliveryRow, 'deliveryId' | 'event' | 'tenantId' | 'outcome' | 'reason'>,
  envelope: Envelope,
  now: number,
): GitHubDeliveryRow {
  return {
    ...fields,
    action: envelope.action,
    installationId: envelope.installationId,
    repository: envelope.repository,
    sender: envelope.sender,
    jobId: null,
    receivedAt: now,
    updatedAt: now,
  };
}

githubWebhookRoutes.post(
  '/',
  bodyLimit({
    maxSize: MAX_GITHUB_BODY_BYTES,
    onError: () => {
      throw new ApiError(
        'payload_too_large',
        `GitHub deliveries are limited to ${MAX_GITHUB_BODY_BYTES} bytes.`,
      );
    },
  }),
  async (c) => {
    // Before reading the signature: without a secret no delivery can be checked (503 naming it).
    const secrets = webhookSecrets(c.env);
    const raw = new Uint8Array(await c.req.arrayBuffer());
    const text = await signedBody(secrets, raw, c.req.header('x-hub-signature-256'));
    if (text === null) {
      throw new ApiError(
        'unauthorized',
        'X-Hub-Signature-256 is missing or does not match the body and the webhook secret.',
      );
    }
    const deliveryId = requiredHeader(c, 'X-GitHub-Delivery', DELIVERY_ID);
    const event = requiredHeader(c, 'X-GitHub-Event', EVENT_NAME);
    const now = Date.now();
    const fields = { delivery_id: deliveryId, event, request_id: c.var.requestId };

    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const envelope = readEnvelope(body);
    const decided = await decide(c.env, event, body, envelope, deliveryId, now);

    if (decided.kind === 'invalid') {
      const { errors, tenantId } = decided;
      const summary = errors
        .slice(0, 5)
        .map((e) => `${e.path}: ${e.message}`)
        .join('; ');
      const invalid = { deliveryId, event, tenantId, outcome: 'invalid' as const, reason: summary };
      // Recorded for the admins to see; a redelivery is checked again and answered 400 again.
      await claimDelivery(c.env.DB, deliveryRow(invalid, envelope, now));
      log('warn', 'github delivery invalid', {
        ...fields,
        tenant_id: tenantId,
        errors: errors.slice(0, 20),
      });
      throw new ApiError('invalid_request', `Invalid ${event} payload: ${summary}`, errors);
    }

    const { decision, tenantId } = decided;
    const reason = decision.kind === 'ignore' ? decision.reason : null;
    const outcome = decision.kind === 'work' ? 'accepted' : 'ignored';
    const row = deliveryRow({ deliveryId, event, tenantId, outcome, reason }, envelope, now);
    const claim = await claimDelivery(c.env.DB, row);
    // A delivery still `accepted` may never have reached its GitHubAppDO (the Worker stopped
    // between the row and the hand-over): hand it over again. The DO takes each delivery once,
    // so this starts nothing twice; every other outcome is final.
    const handOverAgain = claim.kind === 'duplicate' && claim.outcome === 'accepted';
    if (claim.kind === 'duplicate' && !(handOverAgain && decision.kind === 'work')) {
      log('info', 'github delivery repeated', { ...fields, outcome: claim.outcome });
      return c.json({ delivery_id: deliveryId, outcome: 'duplicate' as const }, 200);
    }
    if (decided.change !== undefined) {
      const { change, id, row: mapping } = decided.change;
      try {
        await applyInstallationChange(c.env, change, id, mapping, {
          deliveryId,
          sender: envelope.sender,
        });
      } catch (error) {
        await setDeliveryOutcome(c.env.DB, deliveryId, 'failed', 'could not be carried out');
        log('error', 'github installation change failed', { ...fields, ...errorFields(error) });
        throw new ApiError(
          'not_ready',
          'The installation change could not be carried out now. Redeliver it.',
        );
      }
    }
    if (decision.kind === 'ignore') {
      log('info', 'github delivery ignored', { ...fields, tenant_id: tenantId, reason });
      return c.json({ delivery_id: deliveryId, outcome, reason }, 200);
    }
    const { work } = decision;
    try {
      await c.env.GITHUB.getByName(gitHubAppObjectName(work.installationId)).intake(work);
      if (handOverAgain) {
        log('info', 'github delivery repeated; handed over again', fields);
        return c.json({ delivery_id: deliveryId, outcome: 'duplicate' as const }, 200);
      }
    } catch (error) {
      const why = 'could not be handed to its GitHubAppDO; redeliver it from GitHub';
      await setDeliveryOutcome(c.env.DB, deliveryId, 'failed', why);
      log('error', 'github delivery failed', {
        ...fields,
        tenant_id: tenantId,
        ...errorFields(error),
      });
      throw new ApiError(
        'not_ready',
        'The delivery could not be taken on now; nothing was started. Redeliver it.',
      );
    }
    log('info', 'github delivery accepted', {
      ...fields,
      tenant_id: tenantId,
      trigger: work.trigger,
      repository: row.repository,
    });
    return c.json({ delivery_id: deliveryId, outcome, trigger: work.trigger }, 202);
  },
);

/**
 * The OpenAPI description of the route above (registered beside it, not through `openapi()`:
 * the handler reads the raw bytes for the signature before it parses them).
 */
const GitHubDeliveryAnswerSchema = z
  .object({
    delivery_id: z.string().openapi({ description: 'X-GitHub-Delivery, as received.' }),
    outcome: z.enum(['accepted', 'ignored', 'duplicate']).openapi({
      description:
        'accepted: handed to the installation (202); ignored: nothing to do, see reason; duplicate: this delivery was already handled.',
    }),
    reason: z.string().nullable().optional(),
    trigger: z.enum(githubTriggers).optional(),
  })
  .openapi('GitHubDeliveryAnswer');

githubWebhookRoutes.openAPIRegistry.registerPath({
  method: 'post',
  path: '/',
  operationId: 'receiveGitHubWebhook',
  tags: ['GitHub'],
  summary: "The GitHub App's webhook (called by GitHub)",
  description:
    'Signed by GitHub with the webhook secret; no API key. Each X-GitHub-Delivery is handled once (docs/github.md).',
  security: [],
  request: {
    headers: z.object({
      'x-hub-signature-256': z.string().openapi({ example: `sha256=${'0'.repeat(64)}` }),
      'x-github-event': z.string().openapi({ example: 'issue_comment' }),
      'x-github-delivery': z.string().openapi({ example: '72d3162e-cc78-11e3-81ab-4c9367dc0958' }),
    }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.looseObject({}).openapi({ description: "A GitHub webhook event's payload." }),
        },
      },
    },
  },
  responses: {
    200: {
      description: 'Ignored, or already handled',
      content: { 'application/json': { schema: GitHubDeliveryAnswerSchema } },
    },
    202: {
      description: 'Accepted: handed to the installation',
      content: { 'application/json': { schema: GitHubDeliveryAnswerSchema } },
    },
    400: problem('A header is missing, or the payload is not what its event sends'),
    401: problem('X-Hub-Signature-256 is missing or does not match'),
    413: problem('Body too large'),
    429: problem('Too many requests from this address'),
    503: problem('No webhook secret is set, or the delivery could not be taken on now'),
  },
});
