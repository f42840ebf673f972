import { defineConfig } from 'vitest/config';

// Runs only the local-daytona tests (Node environment, real @daytonaio/sdk).
export default defineConfig({
  test: {
    include: ['test/node/local-daytona*.test.ts'],
    environment: 'node',
    testTimeout: 30000,
  },
});
