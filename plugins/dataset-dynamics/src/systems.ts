/**
 * The dynamical systems of the dataset: each a right-hand side `x' = f(t, x, u; p)` with its default
 * parameters, default initial-state ranges and default observation window. Plain functions, usable on
 * their own (reference solves, regression evaluators).
 */
import { OdemorError } from '@odemor/core';

/** The names of the systems. */
export const SYSTEM_NAMES = ['stiff-linear', 'van-der-pol', 'pendulum', 'lotka-volterra', 'vehicle'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

/** Parameters of a system, by name (all numbers). */
export type SystemParams = Readonly<Record<string, number>>;

/** A closed interval [lo, hi] (lo ≤ hi). */
export type Range = readonly [lo: number, hi: number];

/** One system of the table {@link systems}. */
export interface SystemDefinition {
  readonly name: SystemName;
  /** one line: what it is */
  readonly description: string;
  /** state dimension d */
  readonly dim: number;
  /** input channels (0: autonomous, no u) */
  readonly channels: number;
  /** names of the state components, in order */
  readonly states: readonly string[];
  /** names of the input channels, in order */
  readonly inputs: readonly string[];
  /** default parameters; the dataset options of the same names override them */
  readonly params: SystemParams;
  /** default ranges of the uniform initial states, one [lo, hi] per state */
  readonly initial: readonly Range[];
  /** default horizon t1 − t0 */
  readonly horizon: number;
  /** default number of observation times */
  readonly samples: number;
  /**
   * The right-hand side f(t, x, u; p), written into `out` (length `dim`), which it returns. `u` has
   * `channels` entries (absent for autonomous systems); `p` holds every parameter of {@link params}.
   */
  rhs(t: number, x: ArrayLike<number>, u: ArrayLike<number> | undefined, p: SystemParams, out: Float64Array): Float64Array;
}

/** The change of basis P of the stiff linear system: A = P⁻¹ diag(λ1, λ2) P. */
export const STIFF_P: readonly (readonly [number, number])[] = Object.freeze([Object.freeze([3, 1] as const), Object.freeze([1, -2] as const)]);
/** P⁻¹ = −(1/7)·[[−2, −1], [−1, 3]]. */
const STIFF_P_INV = [
  [2 / 7, 1 / 7],
  [1 / 7, -3 / 7],
] as const;

/**
 * The matrix A = P⁻¹ diag(λ1, λ2) P of the stiff linear system (row-major 2×2). With the defaults
 * λ1 = −1000, λ2 = −1: A = (1/7)·[[−6001, −1998], [−2997, −1006]].
 */
export function stiffLinearMatrix(lambda1 = -1000, lambda2 = -1): [[number, number], [number, number]] {
  const d = [lambda1, lambda2];
  const a: [[number, number], [number, number]] = [
    [0, 0],
    [0, 0],
  ];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) {
      let s = 0;
      for (let k = 0; k < 2; k++) s += STIFF_P_INV[i]![k]! * d[k]! * STIFF_P[k]![j]!;
      a[i]![j] = s;
    }
  }
  return a;
}

/**
 * The exact solution of the stiff linear system, x(t) = P⁻¹ diag(e^{λ1 (t − t0)}, e^{λ2 (t − t0)}) P x0.
 */
export function stiffLinearExact(x0: ArrayLike<number>, t: number, t0 = 0, lambda1 = -1000, lambda2 = -1): Float64Array {
  const z0 = STIFF_P[0]![0] * x0[0]! + STIFF_P[0]![1] * x0[1]!;
  const z1 = STIFF_P[1]![0] * x0[0]! + STIFF_P[1]![1] * x0[1]!;
  const e0 = Math.exp(lambda1 * (t - t0)) * z0;
  const e1 = Math.exp(lambda2 * (t - t0)) * z1;
  return Float64Array.of(STIFF_P_INV[0][0] * e0 + STIFF_P_INV[0][1] * e1, STIFF_P_INV[1][0] * e0 + STIFF_P_INV[1][1] * e1);
}

/**
 * The conserved quantity of the Lotka–Volterra system, V = δx − γ ln x + βy − α ln y (x, y > 0).
 */
export function lotkaVolterraInvariant(x: ArrayLike<number>, p: SystemParams = systems['lotka-volterra'].params): number {
  return p.delta! * x[0]! - p.gamma! * Math.log(x[0]!) + p.beta! * x[1]! - p.alpha! * Math.log(x[1]!);
}

/**
 * The energy of the pendulum per unit m·L², E = ½ω² + (g/L)(1 − cos θ). With damping c it decays:
 * dE/dt = −c ω² ≤ 0.
 */
export function pendulumEnergy(x: ArrayLike<number>, p: SystemParams = systems.pendulum.params): number {
  const w = x[1]!;
  return 0.5 * w * w + (p.g! / p.length!) * (1 - Math.cos(x[0]!));
}

/** The table of systems, by name. */
export const systems: Readonly<Record<SystemName, SystemDefinition>> = Object.freeze({
  'stiff-linear': {
    name: 'stiff-linear',
    description: "x' = A x, A = P⁻¹ diag(λ1, λ2) P, P = [[3, 1], [1, −2]] (stiff at λ1 = −1000, λ2 = −1)",
    dim: 2,
    channels: 0,
    states: ['x1', 'x2'],
    inputs: [],
    params: Object.freeze({ lambda1: -1000, lambda2: -1 }),
    initial: [
      [-1, 1],
      [-1, 1],
    ],
    horizon: 5,
    samples: 50,
    rhs(_t, x, _u, p, out) {
      // A = P⁻¹ diag(λ1, λ2) P written out (see stiffLinearMatrix)
      const l1 = p.lambda1!;
      const l2 = p.lambda2!;
      const x1 = x[0]!;
      const x2 = x[1]!;
      out[0] = ((6 * l1 + l2) * x1 + (2 * l1 - 2 * l2) * x2) / 7;
      out[1] = ((3 * l1 - 3 * l2) * x1 + (l1 + 6 * l2) * x2) / 7;
      return out;
    },
  },
  'van-der-pol': {
    name: 'van-der-pol',
    description: "x1' = x2, x2' = μ(1 − x1²)x2 − x1 (limit cycle of amplitude ≈ 2; stiff at large μ)",
    dim: 2,
    channels: 0,
    states: ['x1', 'x2'],
    inputs: [],
    params: Object.freeze({ mu: 1 }),
    initial: [
      [-2, 2],
      [-2, 2],
    ],
    horizon: 10,
    samples: 100,
    rhs(_t, x, _u, p, out) {
      const x1 = x[0]!;
      const x2 = x[1]!;
      out[0] = x2;
      out[1] = p.mu! * (1 - x1 * x1) * x2 - x1;
      return out;
    },
  },
  pendulum: {
    name: 'pendulum',
    description: "damped pendulum: θ' = ω, ω' = −(g/L) sin θ − c ω",
    dim: 2,
    channels: 0,
    states: ['theta', 'omega'],
    inputs: [],
    params: Object.freeze({ g: 9.81, length: 1, damping: 0.1 }),
    initial: [
      [-2, 2],
      [-1, 1],
    ],
    horizon: 10,
    samples: 100,
    rhs(_t, x, _u, p, out) {
      out[0] = x[1]!;
      out[1] = -(p.g! / p.length!) * Math.sin(x[0]!) - p.damping! * x[1]!;
      return out;
    },
  },
  'lotka-volterra': {
    name: 'lotka-volterra',
    description: "predator–prey: x' = αx − βxy, y' = δxy − γy (V = δx − γ ln x + βy − α ln y is conserved)",
    dim: 2,
    channels: 0,
    states: ['prey', 'predator'],
    inputs: [],
    params: Object.freeze({ alpha: 1.5, beta: 1, gamma: 3, delta: 1 }),
    initial: [
      [1, 5],
      [0.5, 3],
    ],
    horizon: 10,
    samples: 100,
    rhs(_t, x, _u, p, out) {
      const a = x[0]!;
      const b = x[1]!;
      out[0] = p.alpha! * a - p.beta! * a * b;
      out[1] = p.delta! * a * b - p.gamma! * b;
      return out;
    },
  },
  vehicle: {
    name: 'vehicle',
    description: 'planar dynamic bicycle model with linear tires; states [x, y, ψ, vx, vy, r], inputs [steering δ, longitudinal force F]',
    dim: 6,
    channels: 2,
    states: ['x', 'y', 'yaw', 'vx', 'vy', 'r'],
    inputs: ['steering', 'force'],
    // a small car: 1300 kg, wheelbase 2.6 m, understeering (cr·lr > cf·lf)
    params: Object.freeze({ mass: 1300, inertia: 2000, lf: 1.1, lr: 1.5, cf: 60000, cr: 70000, minSpeed: 1 }),
    initial: [
      [0, 0],
      [0, 0],
      [-Math.PI, Math.PI],
      [5, 15],
      [-0.5, 0.5],
      [-0.2, 0.2],
    ],
    horizon: 5,
    samples: 50,
    rhs(_t, x, u, p, out) {
      const psi = x[2]!;
      const vx = x[3]!;
      const vy = x[4]!;
      const r = x[5]!;
      const delta = u ? u[0]! : 0;
      const force = u ? u[1]! : 0;
      // the slip angles divide by the forward speed: below minSpeed the model is not meant to be used
      const v = Math.max(vx, p.minSpeed!);
      const alphaF = delta - Math.atan2(vy + p.lf! * r, v);
      const alphaR = -Math.atan2(vy - p.lr! * r, v);
      const fyf = p.cf! * alphaF;
      const fyr = p.cr! * alphaR;
      const c = Math.cos(psi);
      const s = Math.sin(psi);
      out[0] = vx * c - vy * s;
      out[1] = vx * s + vy * c;
      out[2] = r;
      out[3] = (force - fyf * Math.sin(delta)) / p.mass! + r * vy;
      out[4] = (fyr + fyf * Math.cos(delta)) / p.mass! - r * vx;
      out[5] = (p.lf! * fyf * Math.cos(delta) - p.lr! * fyr) / p.inertia!;
      return out;
    },
  },
} satisfies Record<SystemName, SystemDefinition>);

/** A system with its parameters fixed: what {@link integrateTrajectory} integrates. */
export interface DynamicalSystem {
  readonly name: SystemName;
  readonly dim: number;
  readonly channels: number;
  /** every parameter (defaults filled in) */
  readonly params: SystemParams;
  /** f(t, x, u), a new array of length `dim` */
  rhs(t: number, x: ArrayLike<number>, u?: ArrayLike<number>): Float64Array;
}

/** True when `name` is one of {@link SYSTEM_NAMES}. */
export function isSystemName(name: unknown): name is SystemName {
  return typeof name === 'string' && (SYSTEM_NAMES as readonly string[]).includes(name);
}

/**
 * The system `name` with parameters `params` (missing ones from the defaults).
 *
 * @throws OdemorError `ARGUMENT` for an unknown system, an unknown parameter or a non-finite value
 */
export function createSystem(name: SystemName, params: Record<string, number | undefined> = {}): DynamicalSystem {
  if (!isSystemName(name)) throw new OdemorError('ARGUMENT', `unknown system ${JSON.stringify(name)}; known: ${SYSTEM_NAMES.join(', ')}`);
  const def = systems[name];
  const p: Record<string, number> = { ...def.params };
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (!(k in def.params)) throw new OdemorError('ARGUMENT', `system '${name}' has no parameter '${k}'; its parameters: ${Object.keys(def.params).join(', ')}`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new OdemorError('ARGUMENT', `system '${name}': parameter ${k} must be a finite number, got ${String(v)}`);
    p[k] = v;
  }
  const frozen = Object.freeze(p);
  return Object.freeze({
    name,
    dim: def.dim,
    channels: def.channels,
    params: frozen,
    rhs: (t: number, x: ArrayLike<number>, u?: ArrayLike<number>) => def.rhs(t, x, u, frozen, new Float64Array(def.dim)),
  });
}
