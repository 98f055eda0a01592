/**
 * Empirical interpolation in one place (docs/algorithms.md): DEIM, Q-DEIM and oversampled DEIM point
 * selection, the interpolation operator `U (PᵀU)⁺` and its error constant `‖(PᵀU)⁺‖₂`.
 */
export {
  selectDeimPoints,
  selectQdeimPoints,
  selectOdeimPoints,
  interpolationOperator,
  interpolationErrorConstant,
  type InterpolationOperator,
} from './ei.js';
