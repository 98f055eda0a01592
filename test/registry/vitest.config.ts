import { defineProject } from 'vitest/config';
import { sharedProject } from '../../vitest.shared.js';

const shared = sharedProject(import.meta.url);

// a registry, lerna publish, npm installs from it, a nested vitest run and an experiment: minutes, not seconds.
// The hook's limit is above lerna's and npm install's own (120 s + 180 s), so a hang fails with their output.
export default defineProject({ ...shared, test: { ...shared.test, testTimeout: 240_000, hookTimeout: 330_000 } });
