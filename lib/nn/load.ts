/**
 * `loadModel(dirOrName)`: opens a checkpoint directory (or a hub id, downloaded once into the Hugging
 * Face cache), reads `config.json`, and builds the hooked model of its `model_type` from the registry
 * (`MODEL_FAMILIES`): parse the config, convert the weights, construct the model, attach the tokenizer.
 *
 * Typed: `loadModel(dir, { modelType: 'gpt2' })` returns a `HookedGPT2` (and checks `model_type`); hub
 * ids of the known families (`'gpt2'`, `'openai-community/gpt2-xl'`, `'openai/whisper-tiny'`,
 * `'google/vit-…'`, `'bert-base-uncased'`, `'google-bert/…'`) are typed the same way; other names give
 * the union `HookedModel`.
 *
 * The weights must be exactly what `config.json` describes: expected tensors that are missing, and stored
 * tensors the model does not use (other than each family's known harmless extras), are one CheckpointError
 * listing them; nothing converted before a failure is kept.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend, type ActiveBackend } from '../backend/index.js';
import { checkMemoryFor } from '../backend/memory-budget.js';
import { openCheckpoint, readConfigJson, type Checkpoint } from '../io/checkpoint.js';
import { TrackedCheckpoint, checkAllKeysUsed } from '../io/convert/key-check.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { resolveModelDir } from '../io/resolve.js';
import type { HubOptions } from '../io/hub.js';
import { loadTokenizer } from '../data/tokenizer.js';
import type { Tokenizer } from '../data/tokenizer-types.js';
import { MODEL_FAMILIES, isModelType, type HookedModel, type ModelFamily, type ModelOf, type ModelType, type WithTokenizer } from './registry.js';

export type { HookedModel, ModelType, ModelOf } from './registry.js';

/** Options of `loadModel`: hub options (revision, offline, cacheDir, progress, endpoint, token, timeoutMs) for hub ids. */
export interface LoadModelOptions extends HubOptions {
  /** Use the offline GPT-2 BPE when a GPT-2 checkpoint ships no tokenizer files (default true). */
  gpt2TokenizerFallback?: boolean;
  /** The `model_type` the checkpoint must have (types the result; a `ConfigError` when it differs). */
  modelType?: ModelType;
}

/** Hub ids typed as GPT-2. */
export type Gpt2HubId = 'gpt2' | 'gpt2-medium' | 'gpt2-large' | 'gpt2-xl' | `openai-community/gpt2${string}`;
/** Hub ids typed as Whisper. */
export type WhisperHubId = `openai/whisper-${string}`;
/** Hub ids typed as ViT. */
export type VitHubId = `google/vit-${string}`;
/** Hub ids typed as BERT. */
export type BertHubId = `bert-base-${string}` | `bert-large-${string}` | `google-bert/${string}`;
/** Hub ids typed as GPT-NeoX (Pythia). */
export type PythiaHubId = `EleutherAI/pythia-${string}`;
/** Hub ids typed as Gemma 2. */
export type Gemma2HubId = `google/gemma-2-${string}`;

/** The family a hub id of the typed patterns names (checked against `config.json` at load time). */
export function modelTypeOfName(name: string): ModelType | undefined {
  if (/^(gpt2(-medium|-large|-xl)?|openai-community\/gpt2.*)$/.test(name)) return 'gpt2';
  if (/^openai\/whisper-/.test(name)) return 'whisper';
  if (/^google\/vit-/.test(name)) return 'vit';
  if (/^(bert-(base|large)-|google-bert\/)/.test(name)) return 'bert';
  if (/^EleutherAI\/pythia-/.test(name)) return 'gpt_neox';
  if (/^google\/gemma-2-/.test(name)) return 'gemma2';
  return undefined;
}

/** Loads a hooked model of the given `modelType` (a `ConfigError` when the checkpoint has another). */
export function loadModel<T extends ModelType>(dirOrName: string, opts: LoadModelOptions & { modelType: T }): Promise<ModelOf<T>>;
/** Loads a GPT-2 hub model. */
export function loadModel(name: Gpt2HubId, opts?: LoadModelOptions): Promise<ModelOf<'gpt2'>>;
/** Loads a Whisper hub model. */
export function loadModel(name: WhisperHubId, opts?: LoadModelOptions): Promise<ModelOf<'whisper'>>;
/** Loads a ViT hub model. */
export function loadModel(name: VitHubId, opts?: LoadModelOptions): Promise<ModelOf<'vit'>>;
/** Loads a BERT hub model. */
export function loadModel(name: BertHubId, opts?: LoadModelOptions): Promise<ModelOf<'bert'>>;
/** Loads a Pythia hub model. */
export function loadModel(name: PythiaHubId, opts?: LoadModelOptions): Promise<ModelOf<'gpt_neox'>>;
/** Loads a Gemma 2 hub model. */
export function loadModel(name: Gemma2HubId, opts?: LoadModelOptions): Promise<ModelOf<'gemma2'>>;
/** Loads a hooked model from a checkpoint directory or hub id (the union of all families). */
export function loadModel(dirOrName: string, opts?: LoadModelOptions): Promise<HookedModel>;
export async function loadModel(dirOrName: string, opts: LoadModelOptions = {}): Promise<HookedModel> {
  const { device } = await ensureBackend();
  const dir = await resolveModelDir(dirOrName, opts);
  const where = `${dir}/config.json`;
  const config = await readConfigJson(dir);
  const modelType = config.model_type;
  if (!isModelType(modelType)) throw new ConfigError(`${where} has model_type '${String(modelType)}', which tfjs-lens cannot load`, `supported model_type: ${Object.keys(MODEL_FAMILIES).join(', ')}`);
  const expected = opts.modelType ?? modelTypeOfName(dirOrName);
  if (expected !== undefined && expected !== modelType) {
    throw new ConfigError(`${where} has model_type '${modelType}', not the '${expected}' asked for`, opts.modelType ? 'drop the modelType option, or load a checkpoint of that type' : 'load it by its directory, or pass modelType');
  }
  return build(MODEL_FAMILIES[modelType] as ModelFamily<unknown, unknown, HookedModel>, config, where, dir, opts, device);
}

async function build<Cfg, Weights, Model extends HookedModel>(family: ModelFamily<Cfg, Weights, Model>, config: Record<string, unknown>, where: string, dir: string, opts: LoadModelOptions, device: ActiveBackend['device']): Promise<Model> {
  const cfg = family.parseConfig(config, where);
  const ckpt = new TrackedCheckpoint(await openCheckpoint(dir));
  let weights: Weights;
  // Every tensor the conversion makes is tracked: on a failure part-way none of them is left behind.
  tf.engine().startScope();
  try {
    if (device !== 'gpu') checkMemoryFor(float32Bytes(ckpt), `the weights of ${dir} (as float32)`);
    weights = await family.convert(ckpt, cfg);
    // Every tensor expected is there and every stored one is used (or a known harmless extra).
    checkAllKeysUsed(ckpt, (key) => family.ignorableKey(key, cfg));
  } catch (err) {
    tf.engine().endScope();
    throw err;
  } finally {
    await ckpt.close();
  }
  tf.engine().endScope(weights as unknown as tf.TensorContainer);
  const model = new family.Model(cfg, weights);
  const policy = family.tokenizer;
  if (policy !== 'none') {
    const fallback = (policy.gpt2Fallback?.(cfg) ?? false) && opts.gpt2TokenizerFallback !== false;
    (model as WithTokenizer).tokenizer = await loadTokenizerFor(dir, fallback);
  }
  return model;
}

/** Bytes of every checkpoint tensor as float32 (what the converted weights take in host memory, at most). */
export function float32Bytes(ckpt: Checkpoint): number {
  return ckpt.keys().reduce((sum, k) => sum + ckpt.info(k).shape.reduce((a, b) => a * b, 1) * 4, 0);
}

/**
 * The checkpoint's own tokenizer files, else (for GPT-2's 50257-token vocabulary) the offline GPT-2 BPE,
 * else none: such models take token ids only.
 */
async function loadTokenizerFor(dir: string, gpt2Fallback: boolean): Promise<Tokenizer | undefined> {
  const hasFiles = existsSync(join(dir, 'tokenizer.json')) || (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt')));
  if (!hasFiles && !gpt2Fallback) return undefined;
  return loadTokenizer(dir, gpt2Fallback ? { fallback: 'gpt2' } : {});
}
