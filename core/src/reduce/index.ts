/**
 * Model order reduction building blocks: the block matrix A in float64, the unified reduced form of
 * POD-interpolation methods, cost metrics, a reference RK4 integrator and the shared interpolation
 * reducer.
 */
export { denseA, denseARows, toTensor32 } from './dense.js';
export { buildInterpolatedBlock, type InterpolatedBlockInput } from './interpolated.js';
export { blockCost, reducedDiagnostics, type BlockCost, type BlockCostOptions } from './cost.js';
export { simulateBlock, simulateModel, applyLinearMap, applyLayer, scalarActivation, type SimulateOptions } from './simulate.js';
export { requireOdeBlock, requireSnapshots, checkDim, checkNoPoints, relativePodError, withReducedBlock } from './model.js';
export { blockSvd, type BlockSvd } from './svd.js';
export { InterpolationReducer, interpolationReducerOptionsSchema, type InterpolationReducerOptions, type PointSelection } from './interpolation-reducer.js';
export { buildMlpReducedBlock, checkHiddenDim, requireMlpBlock, type MlpReducedBlockInput } from './mlp.js';
export { matrixSvd, type MatrixSvd } from './svd.js';
