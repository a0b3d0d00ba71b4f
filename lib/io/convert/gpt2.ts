/**
 * GPT-2 weight conversion: Hugging Face checkpoint keys (with or without the `transformer.` prefix,
 * Conv1D `[in, out]` layout, fused `c_attn`, optional `attn.bias`/`attn.masked_bias` buffers which are
 * ignored, tied or separate `lm_head`) → input-major tensors per component. With `tie_word_embeddings:
 * false` the checkpoint must hold `lm_head.weight`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint } from '../checkpoint.js';
import type { GPT2Config } from '../config/gpt2.js';
import type { AttentionWeights, LnWeights, MlpWeights } from './weights.js';
import { WeightReader, readBlocks, readLayerNorm } from './common.js';

export type { LnWeights } from './weights.js';

/** All GPT-2 weights, input-major. */
export interface GPT2Weights {
  W_E: tf.Tensor2D; // [dVocab, dModel]
  W_pos: tf.Tensor2D; // [nCtx, dModel]
  lnFinal: LnWeights;
  /** Separate unembedding `[dVocab, dModel]` (vocab-major like W_E) when not tied. */
  unembed?: tf.Tensor2D;
  /** Unembedding bias `[dVocab]` (HF GPT-2 has none; `processWeights` folds ln_final's bias into one). */
  unembedBias?: tf.Tensor1D;
  blocks: { ln1: LnWeights; attn: AttentionWeights; ln2: LnWeights; mlp: MlpWeights }[];
}

/**
 * Checkpoint keys a GPT-2 may leave unread: the causal-mask buffers `h.N.attn.bias` / `h.N.attn.masked_bias`
 * (transformers' `_keys_to_ignore_on_load_unexpected` for GPT-2) and, when tied, a stored `lm_head.weight`
 * (transformers' `_tied_weights_keys`: the tie replaces it).
 */
export function gpt2IgnorableKey(key: string, cfg: GPT2Config): boolean {
  return /^(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)$/.test(key) || (cfg.tieWordEmbeddings && key === 'lm_head.weight');
}

/** Reads GPT-2 weights from an open checkpoint. */
export async function convertGpt2(ckpt: Checkpoint, cfg: GPT2Config): Promise<GPT2Weights> {
  const r = new WeightReader(ckpt, ['transformer.', '']);
  const d = cfg.dModel;
  const blocks = await readBlocks(cfg.nLayers, async (i): Promise<GPT2Weights['blocks'][number]> => {
    const p = `h.${i}`;
    const [W_Q, W_K, W_V] = (await r.floatLastAxisBlocks(`${p}.attn.c_attn.weight`, [d, 3 * d], 3)) as tf.Tensor2D[];
    const [b_Q, b_K, b_V] = (await r.floatLastAxisBlocks(`${p}.attn.c_attn.bias`, [3 * d], 3)) as tf.Tensor1D[];
    return {
      ln1: await readLayerNorm(r, `${p}.ln_1`, d),
      attn: {
        W_Q: W_Q!, W_K: W_K!, W_V: W_V!, b_Q, b_K, b_V,
        W_O: (await r.float(`${p}.attn.c_proj.weight`, [d, d])) as tf.Tensor2D,
        b_O: (await r.float(`${p}.attn.c_proj.bias`, [d])) as tf.Tensor1D,
      },
      ln2: await readLayerNorm(r, `${p}.ln_2`, d),
      mlp: {
        W_in: (await r.float(`${p}.mlp.c_fc.weight`, [d, cfg.dMlp])) as tf.Tensor2D,
        b_in: (await r.float(`${p}.mlp.c_fc.bias`, [cfg.dMlp])) as tf.Tensor1D,
        W_out: (await r.float(`${p}.mlp.c_proj.weight`, [cfg.dMlp, d])) as tf.Tensor2D,
        b_out: (await r.float(`${p}.mlp.c_proj.bias`, [d])) as tf.Tensor1D,
      },
    };
  });
  const W_E = (await r.float('wte.weight', [cfg.dVocab, d])) as tf.Tensor2D;
  const untied = !cfg.tieWordEmbeddings;
  return {
    W_E,
    W_pos: (await r.float('wpe.weight', [cfg.nCtx, d])) as tf.Tensor2D,
    lnFinal: await readLayerNorm(r, 'ln_f', d),
    unembed: untied ? ((await new WeightReader(ckpt, ['']).float('lm_head.weight', [cfg.dVocab, d])) as tf.Tensor2D) : undefined,
    blocks,
  };
}
