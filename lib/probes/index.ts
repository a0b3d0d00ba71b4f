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
