import { it } from 'vitest';
import { solverConformance } from '@odemor/conformance';
import { EulerSolver } from '../src/index.js';

solverConformance(it, () => new EulerSolver());
