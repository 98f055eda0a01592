import { it } from 'vitest';
import { solverConformance } from '@odemor/conformance';
import { TaylorLagrangeSolver, taylorSolver } from '../src/index.js';

// The kit reads `derivatives` from the solver and passes every problem's exact derivatives, with no midpoint (Γ = 0):
// then 'taylor-lagrange' of order p is the Taylor method of order p + 1, 'taylor' the one of order p.
for (const p of [1, 3]) {
  solverConformance(it, () => new TaylorLagrangeSolver({ order: p }), { title: `solver 'taylor-lagrange' (p = ${p}, Γ = 0) conformance` });
  solverConformance(it, () => taylorSolver({ order: p }), { title: `solver 'taylor' (p = ${p}) conformance` });
}
// order 5: beyond the float32 order check, the float64 step-program check still measures it
solverConformance(it, () => new TaylorLagrangeSolver({ order: 4 }), { title: `solver 'taylor-lagrange' (p = 4, Γ = 0) conformance` });
