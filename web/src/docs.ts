/**
 * The API docs at /docs: starts Swagger UI (swagger-ui-dist, pinned in package.json and copied to
 * /docs/vendor/ by `npm run build:web`) on the API's own /openapi.json. Nothing is loaded from
 * another origin, so the page renders offline and under the CSP of web/public/_headers.
 */

/** What this page uses of the global that swagger-ui-bundle.js defines. */
interface SwaggerUIBundle {
  (options: {
    url: string;
    dom_id: string;
    deepLinking: boolean;
    presets: unknown[];
    layout: string;
    validatorUrl: null;
    tryItOutEnabled: boolean;
  }): unknown;
  presets: { apis: unknown };
}

declare global {
  interface Window {
    SwaggerUIBundle?: SwaggerUIBundle;
  }
}

const start = window.SwaggerUIBundle;
const root = document.getElementById('swagger-ui');
if (!start || !root) {
  document.body.textContent = 'Swagger UI did not load; the document itself is at /openapi.json.';
} else {
  start({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [start.presets.apis],
    layout: 'BaseLayout',
    // The public validator badge would call validator.swagger.io: nothing leaves this origin.
    validatorUrl: null,
    tryItOutEnabled: false,
  });
}

export {};
