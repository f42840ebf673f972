/**
 * The Worker's entry point: the HTTP app, the scheduled tasks (scheduled.ts) and the Durable
 * Object classes it binds.
 */
import { createApp } from './app.ts';
import { errorFields, log } from './lib/log.ts';
import { reportError } from './lib/sentry.ts';
import { runScheduledTask } from './scheduled.ts';
import { noteIsolateStart } from './services/readiness.ts';

export { JobDO } from '../durable-objects/job/job-do.ts';
export { TenantDO } from '../durable-objects/tenant/tenant-do.ts';
export { DaytonaBreakerDO } from '../durable-objects/daytona/breaker-do.ts';
export { WebhookDO } from '../durable-objects/webhooks/webhook-do.ts';
export { GitHubAppDO } from '../durable-objects/github/github-app-do.ts';

const app = createApp();

export default {
  fetch: (request, env, ctx) => {
    noteIsolateStart();
    return app.fetch(request, env, ctx);
  },
  // A failed task is logged and reported, then rethrown so the runtime records the failure.
  // Tests call it without a context.
  scheduled: async (controller: ScheduledController, env: Env, ctx?: ExecutionContext) => {
    try {
      await runScheduledTask(controller.cron, env);
    } catch (error) {
      log('error', 'scheduled task failed', { cron: controller.cron, ...errorFields(error) });
      reportError(env, error, { where: 'scheduled', cron: controller.cron }, (promise) =>
        ctx?.waitUntil(promise),
      );
      throw error;
    }
  },
} satisfies ExportedHandler<Env>;
