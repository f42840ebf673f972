// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      '.wrangler',
      '.omni',
      'worker-configuration.d.ts',
      'migrations',
      'web/dist',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Layers: the Durable Objects share the job vocabulary (worker/domain), configuration, db/ and
    // lib/log with the Worker, never its HTTP layer.
    files: ['durable-objects/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/worker/routes/**',
                '**/worker/middleware/**',
                '**/worker/schemas/**',
                '**/worker/services/**',
                '**/worker/errors.ts',
                'hono',
                'hono/*',
                '@hono/*',
              ],
              message: 'Durable Objects do not depend on the HTTP layer (see README, Layout).',
            },
          ],
        },
      ],
    },
  },
  {
    // D1 queries depend on their tables and the job vocabulary only.
    files: ['worker/db/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*', '!../domain', '!../domain/**'],
              message: 'worker/db/ imports only its own files and worker/domain/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Declaration files merge into global namespaces, which is what they are for.
    files: ['**/*.d.ts'],
    rules: { '@typescript-eslint/no-namespace': 'off' },
  },
);
