import { it } from 'vitest';
import { reducerConformance } from '@odemor/conformance';
import { OdeimReducer } from '../src/index.js';

reducerConformance(it, () => new OdeimReducer());
