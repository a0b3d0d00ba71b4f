/**
 * Llama-family weight conversion (llama, mistral, qwen2): Hugging Face keys `model.layers.N.self_attn.q_proj.weight`
 * … (with or without the `model.` prefix), `nn.Linear` `[out, in]` layout → input-major tensors per component.
 * Tied embeddings (`tie_word_embeddings`) unembed with `embed_tokens`; otherwise the checkpoint must hold
 * `lm_head.weight`. Rotary `inv_freq` buffers that older checkpoints carry are ignored (they are recomputed).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint } from '../checkpoint.js';
import type { LlamaConfig } from '../config/llama.js';
import type { AttentionWeights, GatedMlpWeights } from './weights.js';
import { WeightReader, readBlocks, readLinear } from './common.js';

/** All weights of a Llama-family model, input-major. */
export interface LlamaWeights {
  /** Token embedding `[dVocab, dModel]`. */
  W_E: tf.Tensor2D;
  /** Final RMS norm gain `[dModel]`. */
  lnFinal: tf.Tensor1D;
  /** Separate unembedding `[dVocab, dModel]` (vocab-major like W_E) when not tied. */
  unembed?: tf.Tensor2D;
  /** Unembedding bias `[dVocab]` (none in the checkpoints; `processWeights` may add one). */
  unembedBias?: tf.Tensor1D;
  blocks: { ln1: tf.Tensor1D; attn: AttentionWeights; ln2: tf.Tensor1D; mlp: GatedMlpWeights }[];
}

/** Keys a Llama-family checkpoint may leave unread: rotary `inv_freq` buffers and, when tied, a stored `lm_head.weight`. */
export function llamaIgnorableKey(key: string, cfg: LlamaConfig): boolean {
  return /(^|\.)rotary_emb\.inv_freq$/.test(key) || (cfg.tieWordEmbeddings && key === 'lm_head.weight');
}

/** Reads Llama, Mistral or Qwen2 weights from an open checkpoint. */
export async function convertLlama(ckpt: Checkpoint, cfg: LlamaConfig): Promise<LlamaWeights> {
  const r = new WeightReader(ckpt, ['model.', '']);
  const d = cfg.dModel;
  const qWidth = cfg.nHeads * cfg.dHead;
  const kvWidth = cfg.nKvHeads * cfg.dHead;
  const blocks = await readBlocks(cfg.nLayers, async (i): Promise<LlamaWeights['blocks'][number]> => {
    const p = `layers.${i}`;
    const q = await readLinear(r, `${p}.self_attn.q_proj`, d, qWidth, cfg.qkvBias);
    const k = await readLinear(r, `${p}.self_attn.k_proj`, d, kvWidth, cfg.qkvBias);
    const v = await readLinear(r, `${p}.self_attn.v_proj`, d, kvWidth, cfg.qkvBias);
    const o = await readLinear(r, `${p}.self_attn.o_proj`, qWidth, d, cfg.oBias);
    const gate = await readLinear(r, `${p}.mlp.gate_proj`, d, cfg.dMlp, cfg.mlpBias);
    const up = await readLinear(r, `${p}.mlp.up_proj`, d, cfg.dMlp, cfg.mlpBias);
    const down = await readLinear(r, `${p}.mlp.down_proj`, cfg.dMlp, d, cfg.mlpBias);
    return {
      ln1: (await r.float(`${p}.input_layernorm.weight`, [d])) as tf.Tensor1D,
      attn: { W_Q: q.W, b_Q: q.b, W_K: k.W, b_K: k.b, W_V: v.W, b_V: v.b, W_O: o.W, b_O: o.b },
      ln2: (await r.float(`${p}.post_attention_layernorm.weight`, [d])) as tf.Tensor1D,
      mlp: { W_gate: gate.W, b_gate: gate.b, W_in: up.W, b_in: up.b, W_out: down.W, b_out: down.b },
    };
  });
  return {
    W_E: (await r.float('embed_tokens.weight', [cfg.dVocab, d])) as tf.Tensor2D,
    lnFinal: (await r.float('norm.weight', [d])) as tf.Tensor1D,
    unembed: cfg.tieWordEmbeddings ? undefined : ((await new WeightReader(ckpt, ['']).float('lm_head.weight', [cfg.dVocab, d])) as tf.Tensor2D),
    blocks,
  };
}
