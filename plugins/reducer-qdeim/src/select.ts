/**
 * Q-DEIM point selection (Drmač & Gugercin 2016). The algorithm lives in `@odemor/core`
 * (`interpolation/`, with DEIM, ODEIM, the interpolation operator and its error constant); this package
 * re-exports it under its historical name.
 */
export { selectQdeimPoints } from '@odemor/core';
