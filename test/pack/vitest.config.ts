import { defineProject } from 'vitest/config';
import { sharedProject } from '../../vitest.shared.js';

const shared = sharedProject(import.meta.url);

// npm pack + npm install + a nested vitest run and an experiment: minutes, not seconds
export default defineProject({ ...shared, test: { ...shared.test, testTimeout: 240_000, hookTimeout: 240_000 } });
