/**
 * @odemor/trainer-spectral — spectral-element training of Neural ODEs (SNODE, Quaglino et al., ICLR 2020).
 */
export * from './legendre.js';
export * from './elements.js';
