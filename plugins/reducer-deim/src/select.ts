/**
 * DEIM point selection (Chaturantabut & Sorensen 2010). The algorithm lives in `@odemor/core`
 * (`interpolation/`, with Q-DEIM, ODEIM, the interpolation operator and its error constant); this
 * package re-exports it under its historical name.
 */
export { selectDeimPoints } from '@odemor/core';
