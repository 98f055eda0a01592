/**
 * Dense linear algebra for model reduction, on ml-matrix (float64): POD by direct SVD or from a
 * streamed Gram matrix, rank by energy, column-pivoted QR, and the norms and error measures that the
 * DEIM family reports.
 */
export { Matrix, toMatrix, fromMatrix, fromColumnMajor, columnMajor, assertFiniteMatrix } from './matrix.js';
export { GramAccumulator } from './gram.js';
export { podExact, podFromGram, rankByEnergy, type PodResult } from './pod.js';
export {
  thinSvd,
  singularValuesOf,
  spectralNorm,
  selectRows,
  projectionError,
  orthonormalityError,
  type ThinSvd,
} from './norms.js';
export { pivotedQr, type PivotedQr, type PivotedQrOptions } from './qr.js';
export { antisymmetricRadius, clipAntisymmetricSpectrum, type AntisymmetricClip } from './antisymmetric.js';
