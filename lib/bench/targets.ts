/**
 * Benchmark targets: a hooked model built from a named config with random weights (GPT-2 sizes,
 * ViT-L/16, Whisper large-v3, tiny GPT-2, Llama 3.2 1B, Pythia 1B, Gemma 2 2B), or loaded from a checkpoint directory with `loadModel`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { parseGpt2Config } from '../io/config/gpt2.js';
import { parseVitConfig } from '../io/config/vit.js';
import { parseWhisperConfig } from '../io/config/whisper.js';
import { readConfigJson } from '../io/checkpoint.js';
import { HookedGPT2 } from '../nn/gpt2.js';
import { HookedLlama } from '../nn/llama.js';
import { parseLlamaConfig } from '../io/config/llama.js';
import { HookedGPTNeoX } from '../nn/gpt-neox.js';
import { parseGptNeoXConfig } from '../io/config/gpt-neox.js';
import { HookedGemma } from '../nn/gemma.js';
import { parseGemmaConfig } from '../io/config/gemma.js';
import { HookedViT } from '../nn/vit.js';
import { HookedWhisper } from '../nn/whisper.js';
import { loadModel } from '../nn/load.js';
import { InvalidArgumentError } from '../errors.js';
import { checkMemoryFor } from '../backend/memory-budget.js';
import { activeBackend } from '../backend/index.js';
import { benchConfig, isBenchModelName, BENCH_MODEL_NAMES } from './configs.js';
import { randomGemmaWeights, randomGpt2Weights, randomGptNeoXWeights, randomLlamaWeights, randomVitWeights, randomWhisperWeights } from '../io/convert/random.js';

/** Model families the benchmark runs. */
export type BenchFamily = 'gpt2' | 'vit' | 'whisper' | 'llama' | 'gpt_neox' | 'gemma';

/** A model ready to benchmark, with what the result file records about it. */
export interface BenchTarget {
  /** Model name (`gpt2-xl`, …) or checkpoint directory. */
  name: string;
  family: BenchFamily;
  source: 'random' | 'checkpoint';
  /** The Hugging Face config the model was built from. */
  config: Record<string, unknown>;
  model: HookedGPT2 | HookedViT | HookedWhisper | HookedLlama | HookedGPTNeoX | HookedGemma;
  /** Number of float32 weight values on the backend. */
  params: number;
  /** Backend bytes the weights occupy. */
  weightsBytes: number;
  /** Resident set size of the process just before the weights were made (the runtime and the backend's libraries). */
  rssBeforeBytes: number;
  /** Frees the weights. */
  dispose(): void;
}

/** Options of `buildBenchTarget`. */
export interface BuildTargetOptions {
  /** Override the block count of a named model (quick runs). */
  nLayers?: number;
  /** Seed of the random weights (default 0). */
  seed?: number;
}

/** The wasm backend addresses 4 GiB; leave room for activations. */
const WASM_WEIGHT_LIMIT_BYTES = 3.5 * 2 ** 30;

/** float32 parameter count implied by a config (to refuse models that cannot fit before allocating them). */
export function estimateParams(config: Record<string, unknown>): number {
  const n = (key: string) => Number(config[key] ?? 0);
  switch (config.model_type) {
    case 'gpt2': {
      const d = n('n_embd');
      const dMlp = Number(config.n_inner ?? 4 * d);
      return n('n_layer') * (4 * d * d + 2 * d * dMlp + 9 * d + dMlp) + (n('vocab_size') + n('n_positions')) * d + 2 * d;
    }
    case 'vit': {
      const d = n('hidden_size');
      const nPatches = (n('image_size') / n('patch_size')) ** 2;
      return n('num_hidden_layers') * (4 * d * d + 2 * d * n('intermediate_size')) + (nPatches + 2) * d + d * n('num_channels') * n('patch_size') ** 2 + d * n('num_labels');
    }
    case 'whisper': {
      const d = n('d_model');
      return n('encoder_layers') * (4 * d * d + 2 * d * n('encoder_ffn_dim')) + n('decoder_layers') * (8 * d * d + 2 * d * n('decoder_ffn_dim'))
        + (n('vocab_size') + n('max_target_positions') + n('max_source_positions')) * d + 3 * d * (n('num_mel_bins') + d);
    }
    case 'llama':
    case 'mistral':
    case 'qwen2': {
      const d = n('hidden_size');
      const heads = n('num_attention_heads');
      const dHead = Number(config.head_dim ?? d / heads);
      const kv = Number(config.num_key_value_heads ?? heads) * dHead;
      const untied = config.tie_word_embeddings === false ? 2 : 1;
      return n('num_hidden_layers') * (2 * d * heads * dHead + 2 * d * kv + 3 * d * n('intermediate_size') + 2 * d) + untied * n('vocab_size') * d + d;
    }
    case 'gpt_neox': {
      // attention and MLP biases, two LayerNorms per block (all-bias checkpoints: attention_bias defaults true)
      const d = n('hidden_size');
      const dMlp = n('intermediate_size');
      const untied = config.tie_word_embeddings === true ? 1 : 2;
      return n('num_hidden_layers') * (4 * d * d + 2 * d * dMlp + 9 * d + dMlp) + untied * n('vocab_size') * d + 2 * d;
    }
    case 'gemma2':
    case 'gemma3_text': {
      // no biases; four RMS norms per block (ln1, ln1_post, ln2, ln2_post), q/k norms on Gemma 3
      const d = n('hidden_size');
      const heads = n('num_attention_heads');
      const dHead = n('head_dim');
      const kv = Number(config.num_key_value_heads ?? heads) * dHead;
      const untied = config.tie_word_embeddings === false ? 2 : 1;
      const qk = config.model_type === 'gemma3_text' ? 2 * dHead : 0;
      return n('num_hidden_layers') * (2 * d * heads * dHead + 2 * d * kv + 3 * d * n('intermediate_size') + 4 * d + qk) + untied * n('vocab_size') * d + d;
    }
    default:
      return 0;
  }
}

function refuseTooLarge(name: string, config: Record<string, unknown>): void {
  const bytes = 4 * estimateParams(config);
  // Host memory first (typed error instead of the OOM killer); a GPU backend keeps the weights on the device.
  if (activeBackend()?.device !== 'gpu') checkMemoryFor(bytes, `${name}'s random float32 weights`);
  // The forward's unembedding matmul makes a transposed float32 copy of the [vocab, d] matrix (Gemma 2 2B: 2.2 GiB).
  const d = Number(config.hidden_size ?? config.n_embd ?? config.d_model ?? 0);
  const unembedBytes = 4 * Number(config.vocab_size ?? 0) * d;
  if (tf.getBackend() === 'wasm' && bytes + unembedBytes > WASM_WEIGHT_LIMIT_BYTES) {
    throw new InvalidArgumentError(
      `${name} needs about ${(bytes / 2 ** 30).toFixed(1)} GiB of float32 weights and a ${(unembedBytes / 2 ** 30).toFixed(1)} GiB transposed copy of the unembedding during the forward; the wasm backend addresses at most 4 GiB in all`,
      'use --backend cpu (or webgpu / tensorflow / cuda on a GPU machine), or fewer blocks with --n-layers',
    );
  }
}

/** Builds a hooked model from a Hugging Face config object with random weights. */
export function modelFromConfig(config: Record<string, unknown>, seed = 0, where = 'bench config'): { family: BenchFamily; model: BenchTarget['model'] } {
  switch (config.model_type) {
    case 'gpt2': {
      const cfg = parseGpt2Config(config, where);
      return { family: 'gpt2', model: new HookedGPT2(cfg, randomGpt2Weights(cfg, seed)) };
    }
    case 'vit': {
      const cfg = parseVitConfig(config, where);
      return { family: 'vit', model: new HookedViT(cfg, randomVitWeights(cfg, seed)) };
    }
    case 'whisper': {
      const cfg = parseWhisperConfig(config, where);
      return { family: 'whisper', model: new HookedWhisper(cfg, randomWhisperWeights(cfg, seed)) };
    }
    case 'llama':
    case 'mistral':
    case 'qwen2': {
      const cfg = parseLlamaConfig(config, where);
      return { family: 'llama', model: new HookedLlama(cfg, randomLlamaWeights(cfg, seed)) };
    }
    case 'gpt_neox': {
      const cfg = parseGptNeoXConfig(config, where);
      return { family: 'gpt_neox', model: new HookedGPTNeoX(cfg, randomGptNeoXWeights(cfg, seed)) };
    }
    case 'gemma2':
    case 'gemma3_text': {
      const cfg = parseGemmaConfig(config, where);
      return { family: 'gemma', model: new HookedGemma(cfg, randomGemmaWeights(cfg, seed)) };
    }
    default:
      throw new InvalidArgumentError(`${where}: bench runs gpt2, vit, whisper, llama-family, gpt_neox and gemma models, not model_type '${String(config.model_type)}'`);
  }
}

/**
 * A target with random weights built from a Hugging Face config object (any size: tests use tiny ones).
 * Intermediate tensors of the build are freed; the weights stay until `dispose()`.
 */
export function targetFromConfig(name: string, config: Record<string, unknown>, seed = 0): BenchTarget {
  const rssBeforeBytes = process.memoryUsage().rss;
  const before = tf.memory().numBytes;
  let fresh: { family: BenchFamily; model: BenchTarget['model'] } | undefined;
  tf.tidy(() => {
    fresh = modelFromConfig(config, seed, name);
    return collectTensors(fresh.model);
  });
  const { family, model } = fresh!;
  const weightsBytes = tf.memory().numBytes - before;
  return { name, family, source: 'random', config, model, params: Math.round(weightsBytes / 4), weightsBytes, rssBeforeBytes, dispose: () => model.dispose() };
}

/**
 * A named model (`gpt2`, `gpt2-medium`, `gpt2-large`, `gpt2-xl`, `vit-l16`, `whisper-large`,
 * `tiny-gpt2`, `llama-3.2-1b`, `pythia-1b`, `gemma-2-2b`) with random weights, or a checkpoint directory / hub id loaded with `loadModel`.
 * Builds on the active backend; call `setBackend` first.
 */
export async function buildBenchTarget(nameOrDir: string, opts: BuildTargetOptions = {}): Promise<BenchTarget> {
  if (isBenchModelName(nameOrDir)) {
    const config = benchConfig(nameOrDir, opts.nLayers);
    refuseTooLarge(nameOrDir, config);
    return targetFromConfig(nameOrDir, config, opts.seed ?? 0);
  }
  if (opts.nLayers !== undefined) throw new InvalidArgumentError('--n-layers applies to named models only, not to checkpoints');
  if (!existsSync(nameOrDir) && !nameOrDir.includes('/')) {
    throw new InvalidArgumentError(`unknown model '${nameOrDir}'`, `use one of ${BENCH_MODEL_NAMES.join(', ')}, or a checkpoint directory`);
  }
  const rssBeforeBytes = process.memoryUsage().rss;
  const before = tf.memory().numBytes;
  const model = await loadModel(nameOrDir);
  if (!(model instanceof HookedGPT2 || model instanceof HookedViT || model instanceof HookedWhisper || model instanceof HookedLlama || model instanceof HookedGPTNeoX || model instanceof HookedGemma)) {
    model.dispose();
    throw new InvalidArgumentError(`${nameOrDir}: bench runs GPT-2, ViT, Whisper, Llama-family, GPT-NeoX and Gemma checkpoints`, 'BERT is not benchmarked yet');
  }
  const weightsBytes = tf.memory().numBytes - before;
  const config = existsSync(nameOrDir) ? await readConfigJson(nameOrDir) : { model_type: model.cfg.modelType };
  return {
    name: nameOrDir,
    family: model instanceof HookedLlama ? 'llama' : model instanceof HookedGemma ? 'gemma' : model.cfg.modelType,
    source: 'checkpoint',
    config,
    model,
    params: Math.round(weightsBytes / 4),
    weightsBytes,
    rssBeforeBytes,
    dispose: () => model.dispose(),
  };
}

/** Every tensor a module holds (so that `tf.tidy` around the build keeps them and frees the rest). */
function collectTensors(root: object): tf.Tensor[] {
  const out = new Set<tf.Tensor>();
  const seen = new Set<object>();
  const walk = (value: unknown): void => {
    if (value instanceof tf.Tensor) {
      out.add(value);
    } else if (value && typeof value === 'object' && !seen.has(value)) {
      seen.add(value);
      for (const v of Array.isArray(value) ? value : Object.values(value)) walk(v);
    }
  };
  walk(root);
  return [...out];
}
