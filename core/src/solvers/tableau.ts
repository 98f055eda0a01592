import { OdemorError } from '../errors.js';
import type { ButcherTableau } from '../extension-points.js';

/** Number of stages of a tableau. */
export function stageCount(tableau: ButcherTableau): number {
  return tableau.b.length;
}

/**
 * The inconsistencies of an explicit Runge–Kutta tableau, as readable sentences (empty when consistent):
 * `a` must be s×s and strictly lower triangular, `c[0] = 0`, each row sum of `a` must equal `c`, `b` (and
 * `bHat`, when given) must sum to 1, `order` must be a positive integer and `embeddedOrder` must come with
 * `bHat`. Sums are compared with tolerance `tol` (default 1e-12).
 */
export function tableauProblems(tableau: ButcherTableau, tol = 1e-12): string[] {
  const out: string[] = [];
  const { a, b, c } = tableau;
  const s = b.length;
  if (s === 0) return ['b is empty'];
  if (c.length !== s) out.push(`c has ${c.length} entries, b has ${s}`);
  if (a.length !== s) out.push(`a has ${a.length} rows, expected ${s}`);
  const all = [...a.flat(), ...b, ...c, ...(tableau.bHat ?? [])];
  if (!all.every((v) => typeof v === 'number' && Number.isFinite(v))) out.push('a coefficient is not a finite number');
  if (c[0] !== 0) out.push(`c[0] is ${c[0]}, expected 0 (explicit method)`);
  for (let i = 0; i < Math.min(a.length, s); i++) {
    const row = a[i]!;
    if (row.length !== s) out.push(`a[${i}] has ${row.length} entries, expected ${s}`);
    for (let j = i; j < row.length; j++) {
      if (row[j] !== 0) out.push(`a[${i}][${j}] = ${row[j]} is on or above the diagonal (not explicit)`);
    }
    const sum = row.reduce((acc, v) => acc + v, 0);
    if (c[i] !== undefined && Math.abs(sum - c[i]!) > tol) out.push(`row ${i} of a sums to ${sum}, c[${i}] is ${c[i]}`);
  }
  const bSum = b.reduce((acc, v) => acc + v, 0);
  if (Math.abs(bSum - 1) > tol) out.push(`b sums to ${bSum}, expected 1`);
  if (tableau.bHat) {
    if (tableau.bHat.length !== s) out.push(`bHat has ${tableau.bHat.length} entries, expected ${s}`);
    const hSum = tableau.bHat.reduce((acc, v) => acc + v, 0);
    if (Math.abs(hSum - 1) > tol) out.push(`bHat sums to ${hSum}, expected 1`);
  }
  if (!Number.isInteger(tableau.order) || tableau.order < 1) out.push(`order is ${tableau.order}, expected a positive integer`);
  if (tableau.embeddedOrder !== undefined) {
    if (!tableau.bHat) out.push('embeddedOrder is given without bHat');
    if (!Number.isInteger(tableau.embeddedOrder) || tableau.embeddedOrder < 1) {
      out.push(`embeddedOrder is ${tableau.embeddedOrder}, expected a positive integer`);
    }
  }
  return out;
}

/** Throw an ARGUMENT error listing the problems of `tableau` (see {@link tableauProblems}) unless it is consistent. */
export function checkTableau(tableau: ButcherTableau, what = 'tableau'): void {
  const problems = tableauProblems(tableau);
  if (problems.length) throw new OdemorError('ARGUMENT', `${what} is not a consistent explicit Runge–Kutta tableau: ${problems.join('; ')}`);
}

/** Deep-freeze a tableau so a shared constant cannot be changed by a caller. Returns the same object. */
export function freezeTableau<T extends ButcherTableau>(tableau: T): T {
  for (const row of tableau.a) Object.freeze(row);
  Object.freeze(tableau.a);
  Object.freeze(tableau.b);
  Object.freeze(tableau.c);
  if (tableau.bHat) Object.freeze(tableau.bHat);
  return Object.freeze(tableau);
}

/**
 * True when the method is "first same as last": the last stage is evaluated at `t + h` on the new solution
 * (`a[s-1][0..s-2] = b[0..s-2]`, `b[s-1] = 0`, `c[s-1] = 1`), so its derivative is the next step's first stage.
 */
export function isFsal(tableau: ButcherTableau): boolean {
  const s = tableau.b.length;
  if (s < 2 || tableau.c[s - 1] !== 1 || tableau.b[s - 1] !== 0) return false;
  const last = tableau.a[s - 1]!;
  for (let j = 0; j < s - 1; j++) if (last[j] !== tableau.b[j]) return false;
  return true;
}
