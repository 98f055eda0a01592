import { it } from 'vitest';
import { solverConformance } from '@odemor/conformance';
import { Dopri5Solver } from '../src/index.js';

solverConformance(it, () => new Dopri5Solver());
