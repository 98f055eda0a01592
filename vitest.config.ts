import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['core', 'plugins/*', 'test/conformance', 'test/e2e', 'test/pack', 'test/browser', 'test/registry'],
    reporters: ['default'],
  },
});
