import { it } from 'vitest';
import { reducerConformance } from '@odemor/conformance';
import { SoptReducer } from '../src/index.js';

// lowRankConvergence is off for one of the two checks it switches: on the kit's decaying mlp fixture S-OPT's
// error is not monotone in r (r = 1: 0.40, r = 2: 0.58, then 0.033 at r = 5, 1e-3 at 10, 4e-10 at 20): S rewards
// orthogonal columns of PᵀU, not a large σ_min, and its r = 2 points [2, 21] plus the low-norm row 1 fit worse
// than r = 1's [2, 4]. The other one, the full block's rank-4 check, passes and is run in test/convergence.test.ts,
// with the mlp convergence in the form S-OPT does satisfy.
reducerConformance(it, () => new SoptReducer(), { supports: { lowRankConvergence: false } });
