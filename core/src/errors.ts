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

export class OdemorError extends Error {
  readonly code: OdemorErrorCode;
  constructor(code: OdemorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OdemorError';
    this.code = code;
  }
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
