/**
 * DI tokens of the extension points. Strings (not symbols) so that two copies of @odemor/core in one
 * process (a plugin resolving its own copy) still agree.
 */
export const TOKENS = {
  Solver: 'odemor.Solver',
  Snapshotter: 'odemor.Snapshotter',
  Reducer: 'odemor.Reducer',
  Evaluator: 'odemor.Evaluator',
  Dataset: 'odemor.Dataset',
  Runtime: 'odemor.Runtime',
  Model: 'odemor.Model',
  Report: 'odemor.Report',
  Trainer: 'odemor.Trainer',
} as const;

export type ExtensionPoint = keyof typeof TOKENS;

/** The lowercase noun of each extension point, as messages name it: Solver → 'solver'. */
export const POINT_NOUN: Record<ExtensionPoint, string> = {
  Solver: 'solver',
  Snapshotter: 'snapshotter',
  Reducer: 'reducer',
  Evaluator: 'evaluator',
  Dataset: 'dataset',
  Runtime: 'runtime',
  Model: 'model',
  Report: 'report',
  Trainer: 'trainer',
};

/**
 * npm package prefix per extension point, for short-name resolution: rk4 → @odemor/solver-rk4. The
 * point's noun ({@link POINT_NOUN}).
 */
export const PACKAGE_PREFIX: Record<ExtensionPoint, string> = POINT_NOUN;
