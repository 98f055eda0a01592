/**
 * Stiffness of a (reduced) block, in float64 (docs/algorithms.md#stiffness): the Jacobian of every block kind as a
 * Jacobian-vector product and as a dense matrix, the eigenvalues of small matrices, power iteration for the spectral
 * radius of large ones, and the indicators along test trajectories that results.json's rows carry (`stiffness`).
 */
export { activationDerivative, blockForm, blockRhs, convApply, linearizeBlock, type BlockForm, type Linearization } from './jacobian.js';
export { eigenvalues, powerIteration, spectrumMeasures, type Eigenvalues, type PowerIterationOptions, type PowerIterationResult, type SpectrumMeasures } from './spectrum.js';
export { applyLayer64, blockInput64 } from './layers.js';
export {
  STIFFNESS_DEFAULTS,
  stiffnessIndicators,
  stiffnessTimes,
  trajectoryPoints,
  type MedianMax,
  type StiffnessOptions,
  type StiffnessSample,
  type StiffnessSummary,
} from './indicators.js';
