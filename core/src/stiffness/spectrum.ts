/**
 * Spectra of Jacobians in float64 (docs/algorithms.md#stiffness): every eigenvalue of a small dense matrix (the
 * Hessenberg QR algorithm of ml-matrix's `EigenvalueDecomposition`), the spectral radius of a large one from
 * Jacobian-vector products only (power iteration on a block of vectors, {@link powerIteration}), and the stiffness
 * measures of an eigenvalue list ({@link spectrumMeasures}).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { OdemorError, check } from '../errors.js';
import { mulberry32 } from '../util/rng.js';

/** Eigenvalues `re[i] + i·im[i]` of a matrix. */
export interface Eigenvalues {
  re: number[];
  im: number[];
}

/** Every eigenvalue of the row-major `n × n` matrix `J` (dense; O(n³): meant for n up to a few hundred). */
export function eigenvalues(J: ArrayLike<number>, n: number): Eigenvalues {
  check(Number.isInteger(n) && n >= 1 && J.length === n * n, `eigenvalues: need an n × n matrix, got ${J.length} values for n = ${n}`, 'SHAPE');
  for (let i = 0; i < J.length; i++) {
    if (!Number.isFinite(J[i]!)) throw new OdemorError('NUMERIC', `eigenvalues: entry (${Math.floor(i / n)}, ${i % n}) of the matrix is ${J[i]}`);
  }
  if (n === 1) return { re: [J[0]!], im: [0] };
  const M = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M.set(i, j, J[i * n + j]!);
  const evd = new EigenvalueDecomposition(M, { assumeSymmetric: false });
  return { re: [...evd.realEigenvalues], im: [...evd.imaginaryEigenvalues] };
}

/** The stiffness measures of a spectrum (docs/algorithms.md#stiffness). */
export interface SpectrumMeasures {
  /** ρ = max |λ| */
  spectralRadius: number;
  /** max |Re λ| over the eigenvalues with Re λ < 0 (null: none) */
  maxDecay: number | null;
  /** min |Re λ| over the eigenvalues with Re λ < 0 (null: none) */
  minDecay: number | null;
  /** max |Re λ| / min |Re λ| over the eigenvalues with Re λ < 0; null when there are none */
  stiffnessRatio: number | null;
  /** max Re λ: > 0 where the linearised block grows */
  maxReal: number;
}

/**
 * ρ, the stiffness ratio `max|Re λ| / min|Re λ|` over the eigenvalues with `Re λ < 0` and the largest real part.
 * An eigenvalue with `Re λ` within `1e-12 · ρ` of 0 counts as on the imaginary axis, not as decaying (a ratio
 * against a rounding error's real part would be meaningless).
 */
export function spectrumMeasures(ev: Eigenvalues): SpectrumMeasures {
  let rho = 0;
  let maxReal = -Infinity;
  for (let i = 0; i < ev.re.length; i++) {
    rho = Math.max(rho, Math.hypot(ev.re[i]!, ev.im[i]!));
    maxReal = Math.max(maxReal, ev.re[i]!);
  }
  const floor = 1e-12 * rho;
  let maxDecay = -Infinity;
  let minDecay = Infinity;
  for (const re of ev.re) {
    if (re < -floor) {
      maxDecay = Math.max(maxDecay, -re);
      minDecay = Math.min(minDecay, -re);
    }
  }
  const any = Number.isFinite(minDecay);
  return {
    spectralRadius: rho,
    maxDecay: any ? maxDecay : null,
    minDecay: any ? minDecay : null,
    stiffnessRatio: any ? maxDecay / minDecay : null,
    maxReal,
  };
}

/** Options of {@link powerIteration}. */
export interface PowerIterationOptions {
  /** vectors iterated together (default 4, at most n): a complex pair or nearly equal moduli need at least 2 */
  block?: number;
  /** most iterations (default 300): each costs `block` Jacobian-vector products */
  iterations?: number;
  /** stop when the estimate changed by at most `tol` (relative) over 5 iterations (default 1e-5) */
  tol?: number;
  /** seed of the random start vectors (default 1) */
  seed?: number;
}

/** What {@link powerIteration} returns. */
export interface PowerIterationResult {
  /** the estimate of ρ: the largest |Ritz value| of the last iteration (a lower bound in exact arithmetic) */
  spectralRadius: number;
  /** the Ritz values of the last iteration: estimates of the dominant eigenvalues */
  ritz: Eigenvalues;
  iterations: number;
  /** the estimate met `tol` before `iterations` ran out */
  converged: boolean;
  /** Jacobian-vector products evaluated */
  products: number;
}

/** Orthonormalise the columns `Q[j]` in place (modified Gram–Schmidt, twice); a dependent column becomes a fresh random one. */
function orthonormalise(Q: Float64Array[], rand: () => number): void {
  for (let j = 0; j < Q.length; j++) {
    const q = Q[j]!;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const p = Q[i]!;
        let d = 0;
        for (let r = 0; r < q.length; r++) d += p[r]! * q[r]!;
        for (let r = 0; r < q.length; r++) q[r] = q[r]! - d * p[r]!;
      }
    }
    let norm = 0;
    for (let r = 0; r < q.length; r++) norm += q[r]! * q[r]!;
    norm = Math.sqrt(norm);
    if (!(norm > 1e-300) || !Number.isFinite(norm)) {
      // J maps the block into fewer dimensions (a rank-deficient J): continue from a random direction
      for (let r = 0; r < q.length; r++) q[r] = rand() - 0.5;
      j--;
      continue;
    }
    for (let r = 0; r < q.length; r++) q[r] = q[r]! / norm;
  }
}

/**
 * The spectral radius of an `n × n` operator known only by its products `apply(v) = J v`: power iteration on a
 * block of `b` vectors (orthogonal iteration, Golub & Van Loan §7.3.2) with a Rayleigh–Ritz step — `Q ← orth(J Q)`,
 * the Ritz values being the eigenvalues of the `b × b` matrix `Qᵀ J Q`. With `b ≥ 2` a dominant complex pair (which
 * makes plain power iteration oscillate) converges like a real eigenvalue does, at the rate `|λ_{b+1}| / |λ_b|`.
 * The estimate is the largest |Ritz value|. A zero operator gives 0.
 */
export function powerIteration(apply: (v: Float64Array) => ArrayLike<number>, n: number, options: PowerIterationOptions = {}): PowerIterationResult {
  check(Number.isInteger(n) && n >= 1, `powerIteration: n must be a positive integer, got ${n}`, 'ARGUMENT');
  const b = Math.min(n, Math.max(1, options.block ?? 4));
  const maxIt = options.iterations ?? 300;
  const tol = options.tol ?? 1e-5;
  check(Number.isInteger(maxIt) && maxIt >= 1, `powerIteration: iterations must be a positive integer, got ${maxIt}`, 'ARGUMENT');
  const rand = mulberry32(options.seed ?? 1);
  let Q = Array.from({ length: b }, () => Float64Array.from({ length: n }, () => rand() - 0.5));
  orthonormalise(Q, rand);
  let products = 0;
  const history: number[] = [];
  let ritz: Eigenvalues = { re: [], im: [] };
  let rho = 0;
  let it = 0;
  let converged = false;
  while (it < maxIt) {
    it++;
    const JQ = Q.map((q) => {
      const y = Float64Array.from(apply(q));
      products++;
      check(y.length === n, `powerIteration: the operator returned ${y.length} values for a vector of length ${n}`, 'SHAPE');
      return y;
    });
    for (const y of JQ) for (let r = 0; r < n; r++) {
      if (!Number.isFinite(y[r]!)) throw new OdemorError('NUMERIC', `powerIteration: the operator returned a non-finite value (${y[r]}) at iteration ${it}`);
    }
    // Rayleigh–Ritz: H = Qᵀ J Q
    const H = new Float64Array(b * b);
    for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) {
      let d = 0;
      const qi = Q[i]!;
      const yj = JQ[j]!;
      for (let r = 0; r < n; r++) d += qi[r]! * yj[r]!;
      H[i * b + j] = d;
    }
    ritz = eigenvalues(H, b);
    rho = spectrumMeasures(ritz).spectralRadius;
    history.push(rho);
    if (JQ.every((y) => y.every((v) => v === 0))) {
      converged = true;
      rho = 0;
      break;
    }
    if (history.length > 5) {
      const before = history[history.length - 6]!;
      if (Math.abs(rho - before) <= tol * Math.max(rho, Number.MIN_VALUE)) {
        converged = true;
        break;
      }
    }
    orthonormalise(JQ, rand);
    Q = JQ;
  }
  return { spectralRadius: rho, ritz, iterations: it, converged, products };
}
