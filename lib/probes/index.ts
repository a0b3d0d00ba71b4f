/**
 * Task-transition probing (docs/methods.md §3): dataset construction from saturation layers, a float64
 * one-vs-rest L2 logistic-regression probe (L-BFGS), metrics, seeded F-fold cross-validation with
 * controls, k-means, and the whole experiment in one call. See docs/patterns/probes.md.
 */
export { minimizeLbfgs, type LbfgsOptions, type LbfgsResult, type LbfgsStatus, type ObjectiveWithGradient } from './lbfgs.js';
export { fitStandardScaler, transformStandard, type StandardScaler } from './scaler.js';
export {
  fitLogisticOvR, fitBinaryLogistic, binaryLogisticObjective, decisionFunction, predictProba, predictLogistic, argmaxRows, sigmoid, softplus,
  type LogisticModel, type LogisticOptions, type BinaryLogistic, type ClassScores,
} from './logistic.js';
export { confusionMatrix, perClassRecall, balancedAccuracy, balancedAccuracyFromConfusion, rocAuc, rocAucOvR, nanMean } from './metrics.js';
export {
  kFoldSplits, crossValidateProbe, trainProbe, applyProbe, selectRows, randomEmbeddingControl, shuffleLabels,
  type Probe, type CrossValidationOptions, type CrossValidationResult, type FoldMetrics,
} from './kfold.js';
export {
  taskRanges, balanceProbeItems, probeCandidateItems, selectProbeItems, constructProbeDataset, buildProbeDataset,
  type ProbeDataOptions, type TaskRange, type ProbeItem, type LayerBalance, type ProbeDataset, type FeatureGetter,
  type FeatureSpace, type BuildProbeDatasetOptions, type ModelProbeDataset,
} from './dataset.js';
export { kMeans, type KMeansOptions, type KMeansResult } from './kmeans.js';
export {
  probeDatasetExperiment, runProbeExperiment,
  type ProbeControl, type ProbeExperimentOptions, type ProbeReport, type RunProbeExperimentOptions, type ModelProbeReport,
} from './experiment.js';
export { parsePooler, poolTokens, quantileSorted, QUANTILE_METHODS, type Pooler, type QuantileMethod } from './pooling.js';
export { pooledResidFeatures, type PooledFeatures } from './pooled-features.js';
export { fitLda, ldaDecision, ldaProba, predictLda, type LdaModel, type LdaOptions } from './lda.js';
export { trainNeuralProbe, probeGradients, neuralProbeProba, predictNeuralProbe, type NeuralProbe, type NeuralProbeOptions } from './neural.js';
export {
  GRID_CLASSIFIERS, gridCellKey, enumerateGridCells, evaluateGridCell, runProbeGrid,
  type GridClassifier, type GridClassifierParams, type GridCell, type GridAxes, type GridRecord, type GridFeatures, type RunProbeGridOptions, type ProbeGridRun,
} from './grid.js';
export { mergeProbeGridShards, PROBE_GRID_LOG } from './grid-merge.js';
