/**
 * `shortcuts`: the mat experiment of "Jump to Conclusions" end to end (docs/methods.md §7–§10) on
 * `HookedGPT2` and `HookedBert`: position sampling, batched state collection with hooks, streamed
 * float64 fitting of the shortcuts A_{j,i} and sub-module maps π, r² heatmaps, fixed-exit metrics of the
 * five mappings, CALM early-exit curves, and `runMatPipeline` tying them together.
 * See docs/patterns/mat-pipeline.md.
 */
export { sampleShortcutPositions, type SamplePositionsOptions } from './positions.js';
export { collectStates, stateBatchCount, REGISTRY_NAMES, type CollectStatesOptions, type CollectedStates, type StateBatch } from './collect.js';
export { ShortcutAccumulator, addShortcutStatistics, solveShortcutStatistics, type ShortcutAccumulatorOptions, type MatSolveOptions, type ShortcutStatistics } from './accumulate.js';
export { saveShortcutStatistics, readShortcutStatistics } from './statistics-file.js';
export { fitShortcutsFromStates, type FitShortcutsOptions } from './fit.js';
export { saveMatMaps, loadMatMaps, saveShortcuts, submoduleKey, shortcutTo, submoduleMap, SUBMODULE_SOURCES, type MatMaps, type SubmoduleMap } from './maps.js';
export { r2Matrices, type R2Matrices } from './r2-matrices.js';
export { evaluateMappings, MAPPINGS, FINAL_TOP_K, type MappingName, type MappingMetrics, type MappingEvaluation, type EvaluateMappingsOptions } from './evaluate.js';
export { runBlocksReplaced, PiTensors, variantSources, type SubmoduleVariant } from './replaced-blocks.js';
export { calmEarlyExitCurve, calmScoresFromEvaluation, type CalmCurve, type CalmCurveOptions } from './calm-curve.js';
export { runMatPipeline, collectMatStatistics, type MatPipelineOptions, type MatPipelineReport, type MatStatisticsOptions } from './run.js';
export { matModelInfo, BERT_MASK_TOKEN_ID, type MatModel, type MatModelInfo } from './model-adapter.js';
