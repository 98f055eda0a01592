/**
 * Explicit Runge–Kutta solvers: a generic tableau-driven stepper on batched tfjs tensors
 * ({@link ExplicitRungeKuttaSolver}), float64 reference copies ({@link rkSolveFloat64}, {@link rkStepScalar})
 * and tableau checks. The solver plugins (euler, rk4, dopri5) are thin wrappers around these.
 */
export { ExplicitRungeKuttaSolver, RK_DEFAULTS, tensorAlgebra, type RungeKuttaSolverOptions } from './tensor.js';
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
  rkStep,
  fixedStepCount,
  validateSolveOptions,
  type RkAlgebra,
  type StepOutput,
  type DriverOptions,
  type DriverResult,
} from './driver.js';
export { tableauProblems, checkTableau, freezeTableau, isFsal, stageCount } from './tableau.js';
