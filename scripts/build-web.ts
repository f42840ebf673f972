/** `npm run build:web`: builds web/dist, the Worker's static assets (scripts/lib/web-build.ts). */
import { buildWeb } from './lib/web-build.ts';

await buildWeb();
