import { OdemorError, type ButcherTableau, type ModelIR, type Solver } from '@odemor/core';

/** The message every refusal of an adaptive solver carries, e.g. for dopri5:
 * 'dopri5 is adaptive and cannot be unrolled into a static ONNX graph; use the tfjs runtime or a fixed-step solver'. */
export function adaptiveMessage(name: string): string {
  return `${name} is adaptive and cannot be unrolled into a static ONNX graph; use the tfjs runtime or a fixed-step solver`;
}

/** Solver names known to be adaptive (refused by `supports` from the model alone). */
const ADAPTIVE_NAMES = new Set(['dopri5', 'dopri', 'rk45', 'dormand-prince', 'adaptive']);

/** Where the compiler can get its tableau from: an explicit tableau, a solver object, or the model's solver name. */
export interface TableauSource {
  tableau?: ButcherTableau;
  solver?: Pick<Solver, 'name' | 'adaptive' | 'tableau'>;
}

/** True when the model's solver name is a known adaptive method. */
export function isAdaptiveName(name: string): boolean {
  return ADAPTIVE_NAMES.has(name.toLowerCase());
}

/**
 * The tableau to unroll: `source.tableau`, else `source.solver.tableau` (a Solver is its tableau; the solver
 * plugins own them, so the runtime keeps no table of its own). Adaptive solvers (a solver with `adaptive: true`,
 * a solver without a tableau, or a known adaptive name with nothing else given) raise a RUNTIME error. A
 * tableau's embedded weights `bHat`, if any, are ignored: the method is unrolled with fixed steps and weights `b`.
 */
export function resolveTableau(model: ModelIR, source: TableauSource = {}): ButcherTableau {
  const name = source.solver?.name ?? model.solver.use;
  if (source.solver?.adaptive) throw new OdemorError('RUNTIME', adaptiveMessage(name));
  if (source.solver && !source.solver.tableau && !source.tableau) {
    throw new OdemorError('RUNTIME', `solver '${name}' is a step program without a Butcher tableau; the onnx runtime unrolls explicit Runge–Kutta tableaux only (use the tfjs runtime)`);
  }
  const tableau = source.tableau ?? source.solver?.tableau;
  if (!tableau) {
    if (source.solver || isAdaptiveName(model.solver.use)) throw new OdemorError('RUNTIME', adaptiveMessage(name));
    throw new OdemorError(
      'RUNTIME',
      `the onnx runtime needs the Butcher tableau of solver '${model.solver.use}': pass { solver } (the Solver instance, e.g. new Rk4Solver() from @odemor/solver-rk4) or { tableau } in the runtime or build options`,
    );
  }
  validateTableau(tableau);
  return tableau;
}

/** Check shapes and explicitness (strictly lower-triangular `a`); ARGUMENT error otherwise. */
export function validateTableau(t: ButcherTableau): void {
  const s = t.b.length;
  const ok =
    s > 0 &&
    t.c.length === s &&
    t.a.length === s &&
    t.a.every((row) => row.length <= s && row.every((v) => Number.isFinite(v))) &&
    t.b.every(Number.isFinite) &&
    t.c.every(Number.isFinite);
  if (!ok) throw new OdemorError('ARGUMENT', `invalid Butcher tableau: a must be ${s}×${s}, b and c of length ${s}, all finite`);
  for (let i = 0; i < s; i++) {
    for (let j = i; j < t.a[i]!.length; j++) {
      if (t.a[i]![j] !== 0) {
        throw new OdemorError('ARGUMENT', `Butcher tableau is implicit (a[${i}][${j}] = ${t.a[i]![j]}); only explicit Runge–Kutta methods can be unrolled`);
      }
    }
  }
}
