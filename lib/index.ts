/**
 * tfjs-lens public API (re-exports only).
 *
 * ```ts
 * import { tf, setBackend, loadModel, logitLens, residNamesFilter } from 'tfjs-lens';
 * await setBackend('auto');
 * const model = await loadModel('gpt2');
 * const { output, cache } = await model.runWithCache('The Eiffel Tower is in', { namesFilter: residNamesFilter(model) });
 * ```
 */
// tfjs-core with the chained ops (`x.slice(…)`, `x.matMul(…)`, …) registered and typed.
import { tf } from './tf.js';

/** The tfjs instance the library uses (share it so tensors flow between your code and the models), chained ops included. */
export { tf };

// errors
export * from './errors.js';

// backends
export { setBackend, activeBackend, ensureBackend, BACKEND_NAMES, type BackendName, type BackendOptions, type ActiveBackend, type TensorflowDevice } from './backend/index.js';
export { listCpuFallbacks, cpuBridgeCalls } from './backend/kernel-patches/cpu-bridge.js';
export { setupTensorflow, type TensorflowSetupOptions, type TensorflowSetupResult } from './backend/tensorflow-setup/index.js';
export { tensorflowInfo, type TensorflowInfo } from './backend/tensorflow.js';

// io
export { SafetensorsFile, withSafetensors, readAllSafetensors, parseHeaderLength, parseHeaderJson, MAX_HEADER_BYTES, type TensorInfo, type SafetensorsHeader, type HostTensor } from './io/safetensors.js';
export { saveSafetensors, type SaveValue, type HostValues } from './io/safetensors-writer.js';
export { alignSafetensors, alignmentNotice, unalignedWeightBytes, TENSOR_ALIGNMENT, type AlignedFile } from './io/safetensors-align.js';
export { alignCheckpoint, type AlignedCheckpointFile } from './io/checkpoint-align.js';
export { type SafetensorsDtype, type HeaderDtype, DTYPE_SIZE, HEADER_DTYPE_BITS } from './io/dtypes.js';
export { MAX_JSON_NESTING } from './io/json-scanner.js';
export { openCheckpoint, readConfigJson, type Checkpoint } from './io/checkpoint.js';
export { SHIPPED_MODELS, DEFAULT_MODEL_DIR, resolveModelArg } from './io/shipped-models.js';
export { resolveModelDir, hubRepoId, LEGACY_MODEL_IDS, type ResolveOptions } from './io/resolve.js';
export { resolveHubDataset, parseHubDatasetAddress, isHubDatasetAddress, findCachedDatasetPath, HUB_DATASET_PREFIX, type HubDatasetAddress } from './io/hub-dataset.js';
export { hubCacheDir, hfHome, type HubOptions, type DownloadProgress } from './io/hub.js';
export { ShardedCacheWriter, readCacheIndex, readCacheTensor, type CacheWriterOptions, type CacheIndex } from './io/cache-writer.js';
export { parseShard, resolveShard, slurmShard, kubernetesShard, shardRange, shardLabel, SHARD_COUNT_ENV, type Shard, type ShardSource, type ResolvedShard, type ShardFlags } from './io/shard.js';
export { readRunShards, writeShardManifest, hashFiles, shardDir, shardsDir, SHARD_MANIFEST_FORMAT, SHARD_MANIFEST_FILE, type ShardManifest, type RunShard } from './io/shard-run.js';
export { openJsonlLog, type JsonlLog } from './io/jsonl-log.js';
export { parseGpt2Config, GPT2_SIZES, type GPT2Config } from './io/config/gpt2.js';
export { type GPT2Weights } from './io/convert/gpt2.js';
export { parseLlamaConfig, type LlamaConfig, type LlamaModelType } from './io/config/llama.js';
export { type RopeParams, type RopeScaling } from './io/config/rope.js';
export { type LlamaWeights } from './io/convert/llama.js';
export { parseGptNeoXConfig, type GptNeoXConfig } from './io/config/gpt-neox.js';
export { type GptNeoXWeights } from './io/convert/gpt-neox.js';
export { parseGemmaConfig, parseGemma3MultimodalConfig, type GemmaConfig, type GemmaLayerType } from './io/config/gemma.js';
export { type GemmaWeights, type GemmaBlockWeights } from './io/convert/gemma.js';
export { randomGpt2Weights, randomVitWeights, randomWhisperWeights, randomLlamaWeights } from './io/convert/random.js';
export { randomGptNeoXWeights, randomGemmaWeights } from './io/convert/random.js';
export { saveGpt2Checkpoint, gpt2StateDict, gpt2ConfigJson } from './io/export/gpt2.js';

// models and hooks
export { loadModel, modelTypeOfName, type LoadModelOptions, type HookedModel, type ModelType, type ModelOf, type Gpt2HubId, type WhisperHubId, type VitHubId, type BertHubId, type PythiaHubId, type Gemma2HubId } from './nn/load.js';
export { MODEL_FAMILIES, isModelType, type ModelFamily, type TokenizerPolicy } from './nn/registry.js';
export { HookedGPT2, type LmTokenizer, type ToTokensOptions } from './nn/gpt2.js';
export { HookedViT, type ImageInput } from './nn/vit.js';
export { HookedWhisper, type WhisperInput, type FeatureInput, type WhisperGenerateOptions } from './nn/whisper.js';
export { HookedBert, type BertInput } from './nn/bert.js';
export { HookedLlama } from './nn/llama.js';
export { CausalLmRoot, type CausalLmConfig } from './nn/causal-lm.js';
export { HookedRotaryLM, type RotaryLmConfig, type RotaryLmParts } from './nn/rotary-lm.js';
export { HookedGPTNeoX } from './nn/gpt-neox.js';
export { HookedGemma } from './nn/gemma.js';
export { HookPoint, RunContext, type HookFn, type HookInfo, type ModuleOverride } from './nn/hook-point.js';
export { HookedRoot, type NamesFilter, type ForwardOptions, type RunWithCacheOptions, type RunWithHooksOptions, type CacheRun, type ModuleOverrides, type RunBlocksOptions, type BlockInputs, type EmbeddedInput } from './nn/hooked-root.js';
export { ActivationCache } from './nn/activation-cache.js';
export { getActName, canonicalAlias, closeMatches } from './nn/hook-names.js';
export { residName, type LensModel, type OriginalProbeFeatures } from './nn/lens-model.js';
export { prepareTokens, leftPad, padSequences, type PadOptions, type TokenInput, type PreparedTokens } from './nn/token-input.js';

// data
export { loadTokenizer, toStrTokens, type Tokenizer, type LoadTokenizerOptions } from './data/tokenizer.js';
export { trainByteLevelBpe, writeTokenizerJson } from './data/bpe-train.js';
export { vitPixelValues, vitPixelValuesBatch, vitPixelArray, decodeImage, resizeBilinearPil, type VitPreprocessOptions, type ImageSource, type RgbImage } from './data/image.js';
export { imagenetLabels } from './data/imagenet-labels.js';
export { whisperFeatures, whisperLogMel, WHISPER_SAMPLING_RATE, WHISPER_N_SAMPLES, type WhisperFeatureOptions } from './data/audio.js';
export { readWav, decodeWav, type WavAudio } from './data/wav.js';
export { readTextDataset, textFormatOf, TEXT_FORMATS, type TextDataset, type TextDatasetOptions, type TextFormat, type TextRecord } from './data/text-dataset.js';
export { listImageFolder, readFolderImage, readSynsetList, type ImageFolderDataset, type ImageFolderItem, type ImageFolderOptions } from './data/image-folder.js';
export { readCifarBatch, cifarImage, cifarBatchFiles, type CifarBatch, type CifarVariant } from './data/cifar.js';
export { listSpeechFolder, readSpeechClip, type SpeechClip, type SpeechFolder } from './data/speech-folder.js';
export { readAudioFile, decodeFlac, type DecodedAudio } from './data/audio-file.js';
export { melFilterBank, hertzToMel, melToHertz, type MelScale, type MelFilterBankOptions } from './data/mel.js';

// lens: saturation, order, statistics
export * from './lens/saturation.js';
export * from './lens/order.js';
export * from './lens/better-lm.js';
export * from './math/stats.js';
export { createRng, type Rng } from './math/rng.js';
export { hostArray, toHostArray, toHostArrayAsync, isHostArray, type HostArray, type ArrayInput, type NumericArray, type NestedNumbers, type ToHostArrayOptions } from './math/host-array.js';

// linear shortcuts
export * from './linreg/index.js';

// lens: logit lens, residual decomposition, patching, ablation, attention heads, circuits
export { logitLens, residNamesFilter, lensInput, type LogitLensOptions, type HookedLensModel } from './lens/logit-lens.js';
export { topKPerLayer, lensTopK, topKTieSafe, rankTable, InputChunks, type TopKOptions, type TopKPerLayerOptions, type TopKResult } from './lens/topk.js';
export { accumulatedResid, decomposeResid, applyLnToStack, logitAttrs, stackHeadResults, type ResidStack, type StackOptions, type ApplyLnOptions, type LogitTokens } from './lens/resid.js';
export * from './lens/patching.js';
export { ablationHook, ablateScan, type AblationKind, type AblationOptions, type AblateScanOptions } from './lens/ablation.js';
export { repeatedRandomTokens, inductionScores, previousTokenScores, headDetector, detectionPattern, repeatedSequenceStats, reducePatterns, type RepeatedTokensOptions, type HeadDetectorOptions, type HeadScores, type RepeatedSequenceStats } from './lens/attention.js';
export { FactoredMatrix, type FactoredSvd, type Eigenvalues } from './lens/factored-matrix.js';
export { processWeights, type ProcessWeightsOptions } from './lens/process-weights.js';
export { processLlamaWeights, type ProcessLlamaWeightsOptions } from './lens/process-weights-llama.js';
export { headOV, headQK, circuitTop1Accuracy, kCompositionFullCircuit, kCompositionFullCircuitAccuracy, ovCopyingCircuit, ovCopyingAccuracy, compositionScore, headCompositionScore, allCompositionScores, type HeadRef, type KCompositionOptions, type CompositionMode, type CompositionScores } from './lens/circuits.js';
export { tokenLogProbs, lmLoss, logitDiff, meanLogProb, nextTokenAccuracy, meanLogProbAsync, nextTokenAccuracyAsync, meanLogProbMetric, logitDiffMetric } from './lens/metrics.js';
export * from './lens/intervention.js';
export * from './lens/early-exit.js';
export * from './lens/calm-exit.js';
export * from './shortcuts/index.js';
export * from './probes/index.js';

// plots and benchmarks
export * from './plot/index.js';
export * from './bench/index.js';
