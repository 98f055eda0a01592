import { it } from 'vitest';
import { solverConformance } from '@odemor/conformance';
import { Rk4Solver } from '../src/index.js';

solverConformance(it, () => new Rk4Solver());
