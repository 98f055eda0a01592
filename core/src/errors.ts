/**
 * Errors odemor raises on bad input. Each carries a stable `code` and names the file, key or value
 * at fault in its message, so the CLI can print one line and exit non-zero.
 */
export type OdemorErrorCode =
  | 'CONFIG'
  | 'PLUGIN'
  | 'MODEL'
  | 'SHAPE'
  | 'NUMERIC'
  | 'IO'
  | 'ARGUMENT'
  | 'REDUCER'
  | 'RUNTIME'
  | 'DATA';

/**
 * The brand every OdemorError carries, registered globally with `Symbol.for`, so that an error
 * thrown by a second copy of @odemor/core (a plugin that installed its own) is still recognised.
 */
const BRAND: unique symbol = Symbol.for('odemor.error');

export class OdemorError extends Error {
  readonly code: OdemorErrorCode;
  constructor(code: OdemorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OdemorError';
    this.code = code;
  }

  /**
   * Is `e` an OdemorError from any copy of @odemor/core? Checks the global brand (and that a
   * code is set), not the class identity, so it holds across duplicated installs.
   */
  static is(e: unknown): e is OdemorError {
    if (typeof e !== 'object' || e === null) return false;
    const r = e as { [BRAND]?: unknown; code?: unknown };
    return r[BRAND] === true && typeof r.code === 'string';
  }

  /**
   * `e instanceof OdemorError` uses the brand (see {@link OdemorError.is}), so it is true for errors
   * of another copy of core too. Subclasses keep the ordinary prototype-chain check.
   */
  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never[]) => T, e: unknown): e is T {
    if ((this as unknown) === OdemorError) return OdemorError.is(e);
    return Function.prototype[Symbol.hasInstance].call(this, e);
  }
}
Object.defineProperty(OdemorError.prototype, BRAND, { value: true, enumerable: false, writable: false, configurable: false });

/** Is `e` an OdemorError from any copy of @odemor/core? The same as {@link OdemorError.is}. */
export function isOdemorError(e: unknown): e is OdemorError {
  return OdemorError.is(e);
}

/** Throw an ARGUMENT error unless `cond` holds. */
export function check(cond: unknown, message: string, code: OdemorErrorCode = 'ARGUMENT'): asserts cond {
  if (!cond) throw new OdemorError(code, message);
}

/** Throw a NUMERIC error naming `what` if `data` holds a NaN or an infinity. */
export function checkFinite(data: ArrayLike<number>, what: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      throw new OdemorError('NUMERIC', `${what} contains ${Number.isNaN(v) ? 'NaN' : 'an infinite value'} at flat index ${i}`);
    }
  }
}
