import { it } from 'vitest';
import { reducerConformance } from '@odemor/conformance';
import { ApozReducer } from '../src/index.js';

reducerConformance(it, () => new ApozReducer(), { supports: { lowRankConvergence: false } });
