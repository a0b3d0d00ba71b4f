/** Typed GPT-2 config parsed from a Hugging Face `config.json`. */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { parseConfig } from './parse.js';
import { parseActivation, type ActivationName } from './activation.js';
import type { DecoderLmDims } from './decoder.js';

/** GPT-2 hyper-parameters (TransformerLens names). */
export interface GPT2Config extends DecoderLmDims {
  modelType: 'gpt2';
  eps: number;
  act: ActivationName;
  /** Divide attention scores by √dHead (HF `scale_attn_weights`, default true). */
  scaleAttnWeights: boolean;
  /** Also divide scores of block i by (i + 1) (HF `scale_attn_by_inverse_layer_idx`). */
  scaleAttnByInverseLayerIdx: boolean;
  tieWordEmbeddings: boolean;
}

const schema = z.looseObject({
  model_type: z.literal('gpt2'),
  n_layer: z.number().int().positive(),
  n_embd: z.number().int().positive(),
  n_head: z.number().int().positive(),
  n_inner: z.number().int().positive().nullish(),
  n_positions: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  activation_function: z.string().default('gelu_new'),
  scale_attn_weights: z.boolean().default(true),
  scale_attn_by_inverse_layer_idx: z.boolean().default(false),
  tie_word_embeddings: z.boolean().default(true),
  bos_token_id: z.number().int().nullish(),
  eos_token_id: z.number().int().nullish(),
});

/** Parses and validates a GPT-2 `config.json` object. */
export function parseGpt2Config(json: Record<string, unknown>, where = 'config.json'): GPT2Config {
  const c = parseConfig(schema, json, where, 'GPT-2', 'expected the Hugging Face GPT2Config fields n_layer, n_embd, n_head, n_positions, vocab_size');
  if (c.n_embd % c.n_head !== 0) throw new ConfigError(`${where}: n_embd ${c.n_embd} is not divisible by n_head ${c.n_head}`);
  return {
    modelType: 'gpt2',
    nLayers: c.n_layer,
    dModel: c.n_embd,
    nHeads: c.n_head,
    dHead: c.n_embd / c.n_head,
    dMlp: c.n_inner ?? 4 * c.n_embd,
    nCtx: c.n_positions,
    dVocab: c.vocab_size,
    eps: c.layer_norm_epsilon,
    act: parseActivation(c.activation_function, where),
    scaleAttnWeights: c.scale_attn_weights,
    scaleAttnByInverseLayerIdx: c.scale_attn_by_inverse_layer_idx,
    tieWordEmbeddings: c.tie_word_embeddings,
    bosTokenId: c.bos_token_id ?? undefined,
    eosTokenId: c.eos_token_id ?? undefined,
  };
}

/** Published GPT-2 sizes (for `bench` and tests; no download needed to build them with random weights). */
export const GPT2_SIZES: Record<string, Omit<GPT2Config, 'modelType' | 'act' | 'eps' | 'scaleAttnWeights' | 'scaleAttnByInverseLayerIdx' | 'tieWordEmbeddings'>> = {
  gpt2: { nLayers: 12, dModel: 768, nHeads: 12, dHead: 64, dMlp: 3072, nCtx: 1024, dVocab: 50257 },
  'gpt2-medium': { nLayers: 24, dModel: 1024, nHeads: 16, dHead: 64, dMlp: 4096, nCtx: 1024, dVocab: 50257 },
  'gpt2-large': { nLayers: 36, dModel: 1280, nHeads: 20, dHead: 64, dMlp: 5120, nCtx: 1024, dVocab: 50257 },
  'gpt2-xl': { nLayers: 48, dModel: 1600, nHeads: 25, dHead: 64, dMlp: 6400, nCtx: 1024, dVocab: 50257 },
};
