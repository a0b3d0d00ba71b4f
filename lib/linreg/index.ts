/**
 * `linreg/`: float64 least squares for linear shortcuts between layers (docs/methods.md §7–§9):
 * streaming Gram accumulation, Cholesky / pseudo-inverse solves, all-pairs shortcut fitting, r²,
 * Precision@k, surprisal and the CALM early-exit threshold.
 */
export { GramAccumulator, solveFromStatistics, type GramAccumulatorOptions, type GramStatistics, type SolveOptions } from './gram.js';
export { fitLinearMap, applyLinearMap, type FitOptions } from './fit.js';
export { fitAllShortcuts, shortcutKey, type ShortcutFitOptions, type ShortcutMap, type StateSource } from './shortcuts.js';
export { r2Score, r2ScoreRaw, r2ScoreId, type R2Options } from './r2.js';
export { precisionAtK, surprisal, type SurprisalOptions, type SurprisalResult } from './metrics.js';
export { calmThreshold, meanPrefixLength, LAMBDA_GRID_MAT, LAMBDA_GRID_ID, type CalmThresholdOptions } from './calm.js';
export { invertGram, DEFAULT_RCOND, type GramInverse } from './gram-inverse.js';
export { GemmEngine, PANEL_ROWS, type PackedMatrix, type GemmEngineOptions } from './gemm-engine.js';
export { choleskyLower, lowerTriangularInverse } from '../math/cholesky.js';
export { symmetricEigen, type SymmetricEigen } from '../math/eigen.js';
export type { FloatArray, HostMatrix, MatrixInput, LinearMap } from './types.js';
