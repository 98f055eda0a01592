/**
 * Assertions that name what they check. A failure reads `reduce({ k: 3 }): diagnostics.params: expected
 * 50, got 48` instead of vitest's bare `expected 48 to be 50`, so a plugin author running a kit sees
 * which field of which call is wrong. Each check still goes through the test's own `expect` (the kits
 * never import a global one), so assertion counts, `expect.soft` and vitest's diffs keep working: only
 * the message of a failing assertion is rewritten.
 *
 * ```ts
 * it('reports its costs', ({ expect }) => {
 *   const c = checker(expect, `reduce({ k: ${k} })`);
 *   c.is('diagnostics.params', res.diagnostics.params, cost.params);
 *   c.atMost('max output error', err, 1e-4);
 * });
 * ```
 */
import type { ExpectStatic } from 'vitest';

/** Named assertions; see {@link checker}. */
export interface Checker {
  /** `actual` is `expected` (`Object.is`, as `toBe`). */
  is<T>(field: string, actual: T, expected: T): void;
  /** `actual` deeply equals `expected` (as `toEqual`). */
  equal(field: string, actual: unknown, expected: unknown): void;
  /** `actual ≤ limit` */
  atMost(field: string, actual: number, limit: number): void;
  /** `actual ≥ limit` */
  atLeast(field: string, actual: number, limit: number): void;
  /** `actual > limit` */
  above(field: string, actual: number, limit: number): void;
  /** `|actual − expected| ≤ tolerance` */
  near(field: string, actual: number, expected: number, tolerance: number): void;
  /** `condition` holds; `detail` is the failure's message after the field (`expected finite values only`). */
  ok(field: string, condition: boolean, detail: string): void;
  /** A checker whose messages start with `context` too, e.g. `c.at('E')` → `k = 3: E: …`. */
  at(context: string): Checker;
}

/**
 * Named assertions over the test's `expect`. `context` (optional) prefixes every message, e.g. the call
 * under test: `reduce({ k: 3 })`.
 */
export function checker(expect: ExpectStatic, context?: string): Checker {
  const name = (field: string) => (context ? `${context}: ${field}` : field);
  const run = (message: string, assertion: () => void) => {
    try {
      assertion();
    } catch (e) {
      throw renamed(e, message);
    }
  };
  return {
    is: (field, actual, expected) => run(`${name(field)}: expected ${show(expected)}, got ${show(actual)}`, () => expect(actual).toBe(expected)),
    equal: (field, actual, expected) => run(`${name(field)}: expected ${show(expected)}, got ${show(actual)}`, () => expect(actual).toEqual(expected)),
    atMost: (field, actual, limit) => run(`${name(field)}: expected at most ${show(limit)}, got ${show(actual)}`, () => expect(actual).toBeLessThanOrEqual(limit)),
    atLeast: (field, actual, limit) => run(`${name(field)}: expected at least ${show(limit)}, got ${show(actual)}`, () => expect(actual).toBeGreaterThanOrEqual(limit)),
    above: (field, actual, limit) => run(`${name(field)}: expected more than ${show(limit)}, got ${show(actual)}`, () => expect(actual).toBeGreaterThan(limit)),
    near: (field, actual, expected, tolerance) =>
      run(`${name(field)}: expected ${show(expected)} ± ${show(tolerance)}, got ${show(actual)}`, () => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance)),
    ok: (field, condition, detail) => run(`${name(field)}: ${detail}`, () => expect(condition).toBe(true)),
    at: (more) => checker(expect, name(more)),
  };
}

/** A short, one-line rendering of a value for messages (arrays and objects cut at 120 characters). */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v === undefined || v === null) return String(v);
  if (typeof v === 'function') return `[function ${v.name || 'anonymous'}]`;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) v = Array.from(v as unknown as ArrayLike<number>);
  let s: string;
  try {
    s = JSON.stringify(v, (_k, x: unknown) => (ArrayBuffer.isView(x) && !(x instanceof DataView) ? Array.from(x as unknown as ArrayLike<number>) : x)) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** The failing assertion's error with `message` as its message (and its stack's first line). */
function renamed(e: unknown, message: string): unknown {
  if (!(e instanceof Error)) return e;
  const old = e.message;
  e.message = message;
  if (typeof e.stack === 'string' && old && e.stack.includes(old)) e.stack = e.stack.replace(old, message);
  return e;
}
