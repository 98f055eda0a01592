/**
 * Empirical interpolation in one place (docs/algorithms.md): DEIM, Q-DEIM, oversampled DEIM and S-OPT point
 * selection, the interpolation operator `U (PᵀU)⁺` and its error constant `‖(PᵀU)⁺‖₂`.
 */
export {
  selectDeimPoints,
  selectQdeimPoints,
  selectOdeimPoints,
  selectSoptPoints,
  interpolationOperator,
  interpolationErrorConstant,
  type InterpolationOperator,
} from './ei.js';
