/**
 * Typed config of the Llama family parsed from a Hugging Face `config.json`: `model_type` llama (Llama 2, 3, 3.x),
 * mistral and qwen2 (Qwen2, Qwen2.5) share one architecture (RMS pre-norm, rotary grouped-query attention, gated
 * MLP) and differ in attention biases and sliding windows.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { parseConfig } from './parse.js';
import { parseActivation, type ActivationName } from './activation.js';
import { parseRopeScaling, type RopeParams } from './rope.js';
import type { DecoderLmDims } from './decoder.js';

/** The `model_type`s of the Llama family. */
export type LlamaModelType = 'llama' | 'mistral' | 'qwen2';

/** Llama-family hyper-parameters (TransformerLens names). */
export interface LlamaConfig extends DecoderLmDims {
  modelType: LlamaModelType;
  /** Key/value heads (`num_key_value_heads`; = nHeads without grouped-query attention). */
  nKvHeads: number;
  /** `rms_norm_eps`. */
  eps: number;
  act: ActivationName;
  rope: RopeParams;
  /** q/k/v projections have biases (Qwen2; Llama's `attention_bias`). */
  qkvBias: boolean;
  /** The output projection has a bias (Llama's `attention_bias`; never Qwen2 or Mistral). */
  oBias: boolean;
  /** gate/up/down projections have biases (Llama's `mlp_bias`). */
  mlpBias: boolean;
  /** Sliding attention window per layer (undefined: full causal attention). */
  slidingWindows: (number | undefined)[];
  tieWordEmbeddings: boolean;
  padTokenId?: number;
}

const tokenId = z.union([z.number().int(), z.array(z.number().int())]).nullish();

const schema = z.looseObject({
  model_type: z.enum(['llama', 'mistral', 'qwen2']),
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().nullish(),
  head_dim: z.number().int().positive().nullish(),
  hidden_act: z.string().default('silu'),
  max_position_embeddings: z.number().int().positive(),
  rms_norm_eps: z.number().positive().default(1e-6),
  rope_theta: z.number().positive().nullish(),
  rope_parameters: z.record(z.string(), z.unknown()).nullish(),
  rope_scaling: z.record(z.string(), z.unknown()).nullish(),
  attention_bias: z.boolean().default(false),
  mlp_bias: z.boolean().default(false),
  sliding_window: z.number().int().positive().nullish(),
  use_sliding_window: z.boolean().default(false),
  max_window_layers: z.number().int().nonnegative().nullish(),
  layer_types: z.array(z.string()).nullish(),
  tie_word_embeddings: z.boolean().default(false),
  bos_token_id: tokenId,
  eos_token_id: tokenId,
  pad_token_id: tokenId,
});

type Raw = z.infer<typeof schema>;

const firstId = (v: number | number[] | null | undefined): number | undefined => (Array.isArray(v) ? v[0] : (v ?? undefined));

/** Per-layer windows: Mistral's `sliding_window` on every layer; Qwen2's on its `sliding_attention` layers when `use_sliding_window`. */
function slidingWindows(c: Raw, where: string): (number | undefined)[] {
  const window = c.sliding_window ?? undefined;
  if (c.model_type === 'mistral') return Array.from({ length: c.num_hidden_layers }, () => window);
  if (c.model_type !== 'qwen2' || !c.use_sliding_window || window === undefined) return Array.from({ length: c.num_hidden_layers }, () => undefined);
  const types = c.layer_types ?? Array.from({ length: c.num_hidden_layers }, (_, i) => (i >= (c.max_window_layers ?? 28) ? 'sliding_attention' : 'full_attention'));
  if (types.length !== c.num_hidden_layers) throw new ConfigError(`${where}: layer_types has ${types.length} entries for ${c.num_hidden_layers} layers`);
  return types.map((t) => (t === 'sliding_attention' ? window : undefined));
}

/** Parses and validates a Llama, Mistral or Qwen2 `config.json` object. */
export function parseLlamaConfig(json: Record<string, unknown>, where = 'config.json'): LlamaConfig {
  const c = parseConfig(schema, json, where, 'Llama-family', 'expected the Hugging Face LlamaConfig fields vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, max_position_embeddings');
  const nHeads = c.num_attention_heads;
  const nKvHeads = c.num_key_value_heads ?? nHeads;
  if (nHeads % nKvHeads !== 0) throw new ConfigError(`${where}: num_key_value_heads ${nKvHeads} does not divide num_attention_heads ${nHeads}`);
  if (!c.head_dim && c.hidden_size % nHeads !== 0) throw new ConfigError(`${where}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${nHeads}`);
  const dHead = c.head_dim ?? c.hidden_size / nHeads;
  if (dHead % 2) throw new ConfigError(`${where}: head_dim ${dHead} is odd; rotary embeddings rotate pairs of dims`);
  const ropeDict = c.rope_parameters ?? c.rope_scaling ?? undefined;
  const theta = (typeof ropeDict?.rope_theta === 'number' ? ropeDict.rope_theta : undefined) ?? c.rope_theta ?? 10000;
  const isQwen = c.model_type === 'qwen2';
  const llamaBias = c.model_type === 'llama' && c.attention_bias;
  return {
    modelType: c.model_type,
    nLayers: c.num_hidden_layers,
    dModel: c.hidden_size,
    nHeads,
    nKvHeads,
    dHead,
    dMlp: c.intermediate_size,
    nCtx: c.max_position_embeddings,
    dVocab: c.vocab_size,
    eps: c.rms_norm_eps,
    act: parseActivation(c.hidden_act, where),
    // Llama-family rotary always spans the whole head (transformers' default rope ignores partial_rotary_factor).
    rope: { base: theta, rotaryDim: dHead, scaling: parseRopeScaling(ropeDict, where, c.max_position_embeddings) },
    qkvBias: isQwen || llamaBias,
    oBias: llamaBias,
    mlpBias: c.model_type === 'llama' && c.mlp_bias,
    slidingWindows: slidingWindows(c, where),
    tieWordEmbeddings: c.tie_word_embeddings,
    bosTokenId: firstId(c.bos_token_id),
    eosTokenId: firstId(c.eos_token_id),
    padTokenId: firstId(c.pad_token_id),
  };
}
