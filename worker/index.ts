/**
 * The Worker's entry point: the HTTP app, the scheduled tasks (scheduled.ts) and the Durable
 * Object classes it binds.
 */
import { createApp } from './app.ts';
import { runScheduledTask } from './scheduled.ts';

export { JobDO } from '../durable-objects/job/job-do.ts';
export { TenantDO } from '../durable-objects/tenant/tenant-do.ts';
export { DaytonaBreakerDO } from '../durable-objects/daytona/breaker-do.ts';

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: (controller, env) => runScheduledTask(controller.cron, env),
} satisfies ExportedHandler<Env>;
