import { it } from 'vitest';
import { reducerConformance } from '@odemor/conformance';
import { DeimReducer } from '../src/index.js';

reducerConformance(it, () => new DeimReducer());
