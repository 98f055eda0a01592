/**
 * Solvers, runtime-agnostic: the tableau-carrying {@link ExplicitRungeKuttaSolver}, the one driver every
 * runtime integrates with ({@link solveWith} over the runtime's algebra), float64 reference copies
 * ({@link rkSolveFloat64}, {@link rkStepScalar}) and tableau checks. The solver plugins (euler, rk4, dopri5)
 * are thin wrappers around these.
 */
export { ExplicitRungeKuttaSolver, isSolver, type RungeKuttaSolverOptions } from './rk.js';
export {
  rkSolveFloat64,
  rkStepScalar,
  rkStepScalarWithError,
  float64Algebra,
  type Float64Rhs,
  type Float64SolveOptions,
  type Float64SolveResult,
} from './float64.js';
export {
  integrate,
  integrateAsync,
  rkStepAsync,
  AdaptiveController,
  adaptiveExponent,
  stepFactor,
  landStep,
  nextStep,
  scaledError,
  errorRatioFromSquares,
  type AdaptiveControllerOptions,
  type AsyncDriverOptions,
  type StepAttempt,
  type StepDecision,
  solveWith,
  sequenceIndex,
  RK_DEFAULTS,
  type SolveWithOptions,
  rkStep,
  fixedStepCount,
  validateSolveOptions,
  type RkAlgebra,
  type DriverOptions,
  type DriverResult,
} from './driver.js';
export { tableauProblems, checkTableau, freezeTableau, isFsal, stageCount } from './tableau.js';
export { DOPRI5_TABLEAU } from './dopri5.js';
