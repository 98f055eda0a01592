/**
 * Oversampled DEIM point selection (Peherstorfer, Drmač & Gugercin 2020), which starts from the Q-DEIM
 * points. The algorithm lives in `@odemor/core` (`interpolation/`, with DEIM, Q-DEIM, the interpolation
 * operator and its error constant); this package re-exports it under its historical name.
 */
export { selectOdeimPoints } from '@odemor/core';
