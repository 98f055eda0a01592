/**
 * The Taylor-Lagrange solver (docs/algorithms.md#taylor-lagrange): F. Djeumou, C. Neary, E. Goubault, S. Putot &
 * U. Topcu, "Taylor-Lagrange Neural Ordinary Differential Equations: Toward Fast Training and Evaluation of Neural
 * ODEs", IJCAI 2022, arXiv:2201.05715. One fixed step from (t_k, x_k) of size Δt:
 *
 *   x_{k+1} = x_k + Σ_{i=1}^{p} Δt^i/i! · x⁽ⁱ⁾(t_k, x_k) + Δt^{p+1}/(p+1)! · x⁽ᵖ⁺¹⁾(t_k, ξ_k),
 *   ξ_k = x_k + Γ(x_k) ⊙ x⁽¹⁾(t_k, x_k)
 *
 * with the exact time derivatives x⁽ⁱ⁾ of the solution supplied by the runtime (`StepContext.derivatives`) and the
 * midpoint scale Γ by the model (`StepContext.midpoint`, absent: Γ = 0). `remainder: false` drops the last term: the
 * truncated Taylor series of order p (the 'taylor' baseline). The step is written once over `SolverAlgebra`, so it
 * runs on float64 arrays, tfjs tensors and ONNX graph values alike.
 */
import {
  OdemorError,
  RK_DEFAULTS,
  describeIssues,
  validateSolveOptions,
  z,
  type OdemorPlugin,
  type Solver,
  type SolverAlgebra,
  type StepContext,
  type StepOutput,
} from '@odemor/core';

const positive = z.number().refine((v) => Number.isFinite(v) && v > 0, 'must be a finite number > 0');

/** The keys of the config's `model.solver` that core passes to every solver factory (validated, not used by a fixed step). */
const spanShape = {
  dt: positive.optional(),
  t0: z.number().refine(Number.isFinite, 'must be finite').optional(),
  t1: z.number().refine(Number.isFinite, 'must be finite').optional(),
  rtol: positive.optional(),
  atol: positive.optional(),
  maxSteps: z.number().int('must be an integer').min(1, 'must be ≥ 1').optional(),
};

const orderSchema = z.number().int('must be an integer').min(1, 'must be an integer ≥ 1');

const taylorShape = {
  /** p, the order of the Taylor polynomial (integer ≥ 1, default 1) */
  order: orderSchema.optional(),
  ...spanShape,
};

const taylorLagrangeShape = {
  ...taylorShape,
  /** the Lagrange remainder term at ξ (default true); false: the truncated Taylor series of order p */
  remainder: z.boolean().optional(),
};

/**
 * Option schema of `Solver` 'taylor-lagrange' (strict, for the config check): `order` (p, integer ≥ 1, default 1),
 * `remainder` (boolean, default true), and the span keys core passes every solver (`dt`, `t0`, `t1`, `rtol`, `atol`,
 * `maxSteps`).
 */
export const taylorLagrangeOptions = z.strictObject(taylorLagrangeShape);

/** Option schema of `Solver` 'taylor' (the truncated series: no `remainder` key). */
export const taylorOptions = z.strictObject(taylorShape);

/** Factory options of {@link TaylorLagrangeSolver}. */
export interface TaylorLagrangeOptions {
  /** p, the order of the Taylor polynomial (integer ≥ 1), default 1 */
  order?: number;
  /** the Lagrange remainder Δt^{p+1}/(p+1)! · x⁽ᵖ⁺¹⁾(ξ) (default true); false: the truncated Taylor series */
  remainder?: boolean;
  /** step limit of a solve (default 100000); `rtol`, `atol` are validated and ignored (fixed step) */
  maxSteps?: number;
  rtol?: number;
  atol?: number;
}

/** `[Δt, Δt²/2!, …, Δtⁿ/n!]`, each from the previous (no factorial overflows). */
export function taylorCoefficients(h: number, n: number): number[] {
  const out: number[] = [];
  let c = 1;
  for (let i = 1; i <= n; i++) {
    c *= h / i;
    out.push(c);
  }
  return out;
}

/** The order of a time derivative as a superscript, for messages: 3 → ⁽³⁾, 12 → ⁽¹²⁾. */
function sup(n: number): string {
  const digits = '⁰¹²³⁴⁵⁶⁷⁸⁹';
  return `⁽${String(n)
    .split('')
    .map((d) => digits[Number(d)])
    .join('')}⁾`;
}

/**
 * The Taylor-Lagrange method (`remainder: true`, name 'taylor-lagrange') or the truncated Taylor series of order p
 * (`remainder: false`, name 'taylor') as an odemor {@link Solver}: fixed step, no tableau, a `step` program that
 * asks the runtime for the exact time derivatives of the solution.
 *
 * - `order` (the order a step-halving check observes): p + 1 with the remainder, p without. With Γ = 0 (no
 *   midpoint, or Γ = O(Δt)) the remainder term evaluated at ξ = x_k is exactly the (p+1)-th Taylor term, so the
 *   step is the Taylor method of order p + 1. A learned Γ that does not vanish as Δt → 0 changes the remainder by
 *   O(Δt^{p+1}) per step: the guaranteed order is then p (the method is meant for the Δt it was trained at).
 * - `derivatives`: p + 1 with the remainder, p without.
 * - NFE: one evaluation per derivative order computed (one x⁽ⁱ⁾ costs one Jacobian-vector product ≈ one
 *   evaluation of f): p + 1 per step with the remainder and no midpoint (the orders 1 … p+1 at x_k in one call),
 *   2p + 1 with a midpoint (1 … p at x_k, 1 … p+1 at ξ), p without the remainder. The midpoint network is not
 *   counted.
 */
export class TaylorLagrangeSolver implements Solver {
  readonly name: string;
  /** p, the order of the Taylor polynomial */
  readonly taylorOrder: number;
  /** whether the step adds the Lagrange remainder term */
  readonly remainder: boolean;
  readonly order: number;
  readonly adaptive = false;
  readonly derivatives: number;
  readonly maxSteps: number;

  constructor(options: TaylorLagrangeOptions & Record<string, unknown> = {}, name?: string) {
    const opts = options ?? {};
    const label = name ?? (opts.remainder === false ? 'taylor' : 'taylor-lagrange');
    if (typeof opts !== 'object' || Array.isArray(opts)) throw new OdemorError('ARGUMENT', `solver '${label}': options must be an object, got ${Array.isArray(opts) ? 'an array' : typeof opts}`);
    // unknown keys are left alone here, as every solver does (a checkpoint's solver block may carry some);
    // the config check reports them through the strict schemas above
    const parsed = z.object(taylorLagrangeShape).safeParse(opts);
    if (!parsed.success) {
      const problems = describeIssues(parsed.error.issues, opts, { owner: `solver '${label}'` });
      throw new OdemorError('ARGUMENT', `solver '${label}': ${problems.map((p) => `option ${p.key}: ${p.message}`).join('; ')}`);
    }
    const o = parsed.data;
    this.name = label;
    this.taylorOrder = o.order ?? 1;
    this.remainder = o.remainder ?? true;
    this.order = this.remainder ? this.taylorOrder + 1 : this.taylorOrder;
    this.derivatives = this.remainder ? this.taylorOrder + 1 : this.taylorOrder;
    this.maxSteps = o.maxSteps ?? RK_DEFAULTS.maxSteps;
    validateSolveOptions(label, { t0: 0, t1: 1, dt: 1, maxSteps: this.maxSteps, ...(o.rtol !== undefined ? { rtol: o.rtol } : {}), ...(o.atol !== undefined ? { atol: o.atol } : {}) });
  }

  /**
   * One step from (t, y) of size h (the right-hand side `f` is not called: x⁽¹⁾ = f comes with the derivatives).
   * Returns `remainder` (the term Δt^{p+1}/(p+1)! · x⁽ᵖ⁺¹⁾(t, ξ), a value of its own) when the remainder is on.
   */
  step<T>(alg: SolverAlgebra<T>, _f: (t: number, y: T) => T, t: number, y: T, h: number, context: StepContext<T>): StepOutput<T> {
    const p = this.taylorOrder;
    const derive = context.derivatives;
    if (typeof derive !== 'function') {
      throw new OdemorError(
        'ARGUMENT',
        `solver '${this.name}': the step needs the time derivatives x⁽¹⁾ … x${sup(this.derivatives)} of the solution (context.derivatives, Jacobian-vector products of the block), got ${derive === undefined ? 'none' : typeof derive}`,
      );
    }
    const ask = (at: T, n: number, where: string): T[] => {
      const d = derive(t, at, n);
      if (!Array.isArray(d) || d.length !== n) {
        const got = Array.isArray(d) ? `${d.length} value${d.length === 1 ? '' : 's'}` : d === undefined || d === null ? String(d) : typeof d;
        throw new OdemorError('ARGUMENT', `solver '${this.name}': derivatives(t = ${t}, ${where}, ${n}) must return the ${n} derivatives [x⁽¹⁾, …, x${sup(n)}], got ${got}`);
      }
      for (let i = 0; i < n; i++) context.onEval?.();
      return d;
    };
    const c = taylorCoefficients(h, p + 1);
    if (!this.remainder) return { y1: alg.axpy(y, c.slice(0, p), ask(y, p, 'x_k')) };

    const midpoint = context.midpoint;
    let d: T[];
    let top: T; // x⁽ᵖ⁺¹⁾ at ξ
    if (midpoint === undefined) {
      // Γ = 0: ξ = x_k, and one call gives every order the step needs
      const all = ask(y, p + 1, 'x_k');
      d = all.slice(0, p);
      top = all[p]!;
    } else {
      if (typeof alg.mul !== 'function') {
        throw new OdemorError('RUNTIME', `solver '${this.name}': a midpoint Γ needs an elementwise product (SolverAlgebra.mul) for ξ = x + Γ ⊙ f(x); this runtime's algebra has none`);
      }
      d = ask(y, p, 'x_k');
      const gamma = midpoint(t, y);
      const xi = alg.axpy(y, [1], [alg.mul(gamma, d[0]!)]);
      top = ask(xi, p + 1, 'ξ = x_k + Γ ⊙ f(x_k)')[p]!;
    }
    const remainder = alg.combine([c[p]!], [top]);
    const y1 = alg.axpy(y, [...c.slice(0, p), 1], [...d, remainder]);
    return { y1, remainder };
  }
}

/** `Solver` 'taylor': the truncated Taylor series of order p (a 'taylor-lagrange' solver with `remainder: false`). */
export function taylorSolver(options: Record<string, unknown> = {}): TaylorLagrangeSolver {
  const opts = options ?? {};
  if (opts.remainder !== undefined && opts.remainder !== false) {
    throw new OdemorError('ARGUMENT', `solver 'taylor': option remainder = ${String(opts.remainder)}: 'taylor' is the truncated series (remainder false); use solver 'taylor-lagrange' for the Lagrange remainder`);
  }
  return new TaylorLagrangeSolver({ ...opts, remainder: false }, 'taylor');
}

/** The plugin: provides `Solver` 'taylor-lagrange' and 'taylor' (= 'taylor-lagrange' with `remainder: false`). */
const plugin = {
  name: '@odemor/solver-taylor-lagrange',
  register(ctx) {
    ctx.provide('Solver', 'taylor-lagrange', (opts) => new TaylorLagrangeSolver(opts), {
      description: 'Taylor expansion of order p with the Lagrange remainder at a (learned) midpoint, fixed step, order p + 1 with Γ = 0',
      options: taylorLagrangeOptions,
    });
    ctx.provide('Solver', 'taylor', (opts) => taylorSolver(opts), {
      description: 'truncated Taylor series of order p (the Taylor-Lagrange baseline without remainder), fixed step',
      options: taylorOptions,
    });
  },
} satisfies OdemorPlugin;

export default plugin;
