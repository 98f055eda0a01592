import { OdemorError, type ButcherTableau, type ModelIR, type Solver } from '@odemor/core';

/**
 * The message every refusal of an adaptive solver carries where no tableau is known (an adaptive step program, a
 * solver name alone) and where a static graph is needed (training, `odemor export`), e.g. for dopri5:
 * 'dopri5 is adaptive and cannot be unrolled into a static ONNX graph; use the tfjs runtime or a fixed-step solver'.
 * With its tableau, an adaptive solver runs on the onnx runtime's step loop ({@link resolveSolver}).
 */
export function adaptiveMessage(name: string): string {
  return `${name} is adaptive and cannot be unrolled into a static ONNX graph; use the tfjs runtime or a fixed-step solver`;
}

/** Solver names known to be adaptive (refused by `supports` from the model alone). */
const ADAPTIVE_NAMES = new Set(['dopri5', 'dopri', 'rk45', 'dormand-prince', 'adaptive']);

/**
 * What the compiler, the runtime and the trainer read of a `Solver`: its name, whether it is adaptive, its tableau
 * or its step program (`step`, e.g. Taylor-Lagrange), the time derivatives the step asks for, and its defaults.
 */
export type SolverLike = Pick<Solver, 'name' | 'adaptive' | 'tableau'> & Partial<Pick<Solver, 'rtol' | 'atol' | 'maxSteps' | 'derivatives' | 'step' | 'order'>>;

/** Where the compiler can get its tableau from: an explicit tableau, a solver object, or the model's solver name. */
export interface TableauSource {
  tableau?: ButcherTableau;
  /** the solver (its tolerances and step limit are the adaptive loop's defaults; a step program without a tableau is unrolled with its step) */
  solver?: SolverLike;
}

/**
 * The highest time derivative of the solution the onnx compiler builds for a step program
 * (`StepContext.derivatives`): the closed forms x⁽¹⁾, x⁽²⁾, x⁽³⁾ of the block (docs in the README).
 */
export const MAX_DERIVATIVE_ORDER = 3;

/** The order of a time derivative as a superscript: 4 → ⁽⁴⁾. */
function sup(n: number): string {
  const digits = '⁰¹²³⁴⁵⁶⁷⁸⁹';
  return `⁽${String(n)
    .split('')
    .map((d) => digits[Number(d)] ?? d)
    .join('')}⁾`;
}

/**
 * The refusal of a solver that needs more time derivatives of the solution (`Solver.derivatives`, Taylor methods)
 * than the onnx runtime computes ({@link MAX_DERIVATIVE_ORDER}).
 */
export function derivativesMessage(name: string, order: number): string {
  return `solver '${name}' needs time derivatives of the solution up to order ${order} (x${sup(order)}), but the onnx runtime computes them up to order ${MAX_DERIVATIVE_ORDER} only (the closed forms x⁽¹⁾ … x⁽³⁾ of the block); use a lower Taylor order (taylor-lagrange: order ≤ ${MAX_DERIVATIVE_ORDER - 1} with the remainder, taylor: order ≤ ${MAX_DERIVATIVE_ORDER})`;
}

/** A fixed-step step program the compiler unrolls (see {@link resolveProgram}). */
export type StepProgram = SolverLike & Required<Pick<Solver, 'step'>>;

/**
 * The step program to unroll, when the solver is one: `source.solver` with a `step` and no tableau (neither its own
 * nor `source.tableau`, which win as everywhere in this runtime), e.g. Taylor-Lagrange; undefined for tableau
 * solvers. Refused (RUNTIME): an adaptive step program ({@link adaptiveMessage}: a static graph has fixed steps),
 * and a program that asks for more than {@link MAX_DERIVATIVE_ORDER} time derivatives ({@link derivativesMessage}).
 */
export function resolveProgram(source: TableauSource = {}): StepProgram | undefined {
  const s = source.solver;
  if (!s || source.tableau || s.tableau || typeof s.step !== 'function') return undefined;
  if (s.adaptive) throw new OdemorError('RUNTIME', adaptiveMessage(s.name));
  checkDerivatives(s);
  return s as StepProgram;
}

/**
 * The own scalar fields of a step-program solver (its name, order, derivatives, and e.g. Taylor-Lagrange's
 * `taylorOrder` and `remainder`), for cache keys and training fingerprints.
 */
export function programFields(solver: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(solver).filter(([, v]) => ['number', 'string', 'boolean'].includes(typeof v)));
}

/** RUNTIME error ({@link derivativesMessage}) when `solver` asks for more time derivatives than the compiler builds. */
export function checkDerivatives(solver: Pick<SolverLike, 'name' | 'derivatives'> | undefined): void {
  const d = solver?.derivatives;
  if (d !== undefined && d > MAX_DERIVATIVE_ORDER) throw new OdemorError('RUNTIME', derivativesMessage(solver!.name, d));
}

/** True when the model's solver name is a known adaptive method. */
export function isAdaptiveName(name: string): boolean {
  return ADAPTIVE_NAMES.has(name.toLowerCase());
}

/**
 * The tableau to unroll into a static graph with fixed steps (the fixed-step executable, the training graph):
 * `source.tableau`, else `source.solver.tableau` (a Solver is its tableau; the solver plugins own them, so the
 * runtime keeps no table of its own). Adaptive solvers (a solver with `adaptive: true`, a solver without a
 * tableau, or a known adaptive name with nothing else given) raise a RUNTIME error — the runtime resolves them
 * with {@link resolveSolver} to its step loop instead. A tableau's embedded weights `bHat`, if any, are ignored:
 * the method is unrolled with fixed steps and weights `b`.
 */
export function resolveTableau(model: ModelIR, source: TableauSource = {}): ButcherTableau {
  const name = source.solver?.name ?? model.solver.use;
  checkDerivatives(source.solver);
  if (source.solver?.adaptive) throw new OdemorError('RUNTIME', adaptiveMessage(name));
  if (source.solver && !source.solver.tableau && !source.tableau) {
    const what = typeof source.solver.step === 'function' ? 'a step program without a Butcher tableau (compile it with { solver }: resolveProgram)' : 'neither a Butcher tableau nor a step program';
    throw new OdemorError('RUNTIME', `solver '${name}' has ${what}; a tableau is needed here`);
  }
  const tableau = source.tableau ?? source.solver?.tableau;
  if (!tableau) {
    if (source.solver || isAdaptiveName(model.solver.use)) throw new OdemorError('RUNTIME', adaptiveMessage(name));
    throw new OdemorError('RUNTIME', needTableauMessage(model.solver.use));
  }
  validateTableau(tableau);
  return tableau;
}

/** The tableau to integrate with and how: unrolled fixed steps, or the adaptive step loop. */
export interface ResolvedSolver {
  tableau: ButcherTableau;
  /** true: the adaptive step loop (a step graph driven by core's controller); false: fixed steps unrolled */
  adaptive: boolean;
  /** the solver's name, for messages */
  name: string;
}

/**
 * How the runtime integrates `model`: like {@link resolveTableau}, but an adaptive solver with a Butcher tableau
 * resolves to the adaptive step loop instead of an error. Adaptive: `solver.adaptive` (its `tableau`, or
 * `source.tableau`), or — without a solver object — a known adaptive solver name (`model.solver.use`, e.g.
 * dopri5) with a `source.tableau` that has embedded weights `bHat`. Refused (RUNTIME): an adaptive solver
 * object without a tableau (the message of {@link adaptiveMessage}), an adaptive solver whose tableau has no
 * `bHat`, and no tableau at all (the message asks for `{ solver }` or `{ tableau }`).
 */
export function resolveSolver(model: ModelIR, source: TableauSource = {}): ResolvedSolver {
  const solver = source.solver;
  const name = solver?.name ?? model.solver.use;
  checkDerivatives(solver);
  const tableau = source.tableau ?? solver?.tableau;
  const adaptive = solver ? solver.adaptive : isAdaptiveName(model.solver.use) && !!tableau?.bHat;
  if (adaptive) {
    if (!tableau) throw new OdemorError('RUNTIME', adaptiveMessage(name));
    validateTableau(tableau);
    if (!tableau.bHat) throw new OdemorError('RUNTIME', noEmbeddedMessage(name));
    return { tableau, adaptive: true, name };
  }
  if (!solver && !tableau) throw new OdemorError('RUNTIME', needTableauMessage(model.solver.use));
  return { tableau: resolveTableau(model, source), adaptive: false, name };
}

/** The refusal when neither a solver nor a tableau was given. */
function needTableauMessage(name: string): string {
  return `the onnx runtime needs the Butcher tableau of solver '${name}': pass { solver } (the Solver instance, e.g. new Rk4Solver() from @odemor/solver-rk4) or { tableau } in the runtime or build options`;
}

/** The refusal of an adaptive solver whose tableau has no embedded weights. */
export function noEmbeddedMessage(name: string): string {
  return `solver '${name}' is adaptive but its Butcher tableau has no embedded weights (bHat) for the error estimate`;
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
