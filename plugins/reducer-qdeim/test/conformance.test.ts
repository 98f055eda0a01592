import { it } from 'vitest';
import { reducerConformance } from '@odemor/conformance';
import { QdeimReducer } from '../src/index.js';

reducerConformance(it, () => new QdeimReducer());
