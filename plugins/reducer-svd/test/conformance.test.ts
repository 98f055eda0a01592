import { it } from 'vitest';
import { reducerConformance } from '@odemor/conformance';
import { SvdReducer } from '../src/index.js';

reducerConformance(it, () => new SvdReducer(), { needsSnapshots: false, mlpMaxRank: (m, n) => Math.min(m, n) - 1 });
