/** Per-layer benchmark: whole-forward throughput, per-block and attention/MLP times, cache cost, memory. */
export { summarize, throughput, medianRatio, type Stats } from './stats.js';
export {
  BENCH_RESULT_SCHEMA, BENCH_SUITE_SCHEMA, CACHE_MODES, BLOCK_PARTS, benchResultSchema, benchSuiteSchema, parseBenchRuns, readBenchRuns,
  type BenchResult, type BenchSuite, type CacheMode, type BlockPart,
} from './schema.js';
export { BENCH_MODEL_NAMES, benchConfig, isBenchModelName, type BenchModelName } from './configs.js';
export { buildBenchTarget, targetFromConfig, modelFromConfig, estimateParams, type BenchTarget, type BenchFamily, type BuildTargetOptions } from './targets.js';
export { makeWorkload, type Workload, type WorkloadShape, type BlockStack } from './workload.js';
export { runBench, cacheFilter, type BenchSettings, type RunBenchOptions } from './run-bench.js';
export { settle, timeSync, timeAsync, syncOverheadSamples, peakBytesDuring, kernelTimerUseful, type TimedCall } from './timing.js';
export { hostInfo, versions, rssPeakBytes } from './host.js';
export { formatBenchReport, benchChartSpec, fmtMs, fmtRate, fmtStats, plainTable } from './report.js';
export { compareResults, formatComparison, pairResults, sameWorkload, type ComparisonRow, type ComparisonLabels } from './compare.js';
