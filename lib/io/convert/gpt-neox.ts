/**
 * GPT-NeoX / Pythia weight conversion: Hugging Face checkpoint keys (`gpt_neox.` prefix or none; `nn.Linear`
 * `[out, in]` layout) → input-major tensors per component. The fused `attention.query_key_value` projection holds,
 * for each head in turn, that head's q, k and v rows (`[H, 3, dHead]` along its output axis), so it is split per
 * head, not in three thirds. The untied unembedding is `embed_out.weight` (published checkpoints) or
 * `lm_head.weight` (as transformers 5 saves it).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint } from '../checkpoint.js';
import type { GptNeoXConfig } from '../config/gpt-neox.js';
import type { AttentionWeights, LnWeights, MlpWeights } from './weights.js';
import { WeightReader, readBlocks, readLayerNorm, readLinear } from './common.js';

/** All GPT-NeoX weights, input-major. */
export interface GptNeoXWeights {
  W_E: tf.Tensor2D; // [dVocab, dModel]
  lnFinal: LnWeights;
  /** Unembedding `[dVocab, dModel]` (vocab-major like W_E); undefined when tied to W_E. */
  unembed?: tf.Tensor2D;
  /** Unembedding bias `[dVocab]` (none in the checkpoints; `processWeights` folds ln_final's bias into one). */
  unembedBias?: tf.Tensor1D;
  blocks: { ln1: LnWeights; attn: AttentionWeights; ln2: LnWeights; mlp: MlpWeights }[];
}

/**
 * Checkpoint keys a GPT-NeoX may leave unread: the causal-mask and rotary buffers of older checkpoints
 * (`attention.bias`, `attention.masked_bias`, `rotary_emb.inv_freq`) and, when tied, a stored unembedding.
 */
export function gptNeoXIgnorableKey(key: string, cfg: GptNeoXConfig): boolean {
  return (
    /^(gpt_neox\.)?layers\.\d+\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$/.test(key) ||
    /^(gpt_neox\.)?rotary_emb\.inv_freq$/.test(key) ||
    (cfg.tieWordEmbeddings && (key === 'embed_out.weight' || key === 'lm_head.weight'))
  );
}

/**
 * The fused projection `[3·H·dHead, dModel]` (+ bias) → input-major W_Q, W_K, W_V `[dModel, H·dHead]` and their
 * biases: rows are `[head, (q|k|v), dHead]`.
 */
function splitFusedQkv(W: tf.Tensor2D, b: tf.Tensor1D | undefined, nHeads: number, dHead: number): Omit<AttentionWeights, 'W_O' | 'b_O'> {
  return tf.tidy(() => {
    const dModel = W.shape[1];
    const rows = tf.reshape(W, [nHeads, 3, dHead, dModel]);
    const [q, k, v] = tf.split(rows, 3, 1).map((t) => tf.transpose(tf.reshape(t, [nHeads * dHead, dModel])) as tf.Tensor2D);
    const biases = b && tf.split(tf.reshape(b, [nHeads, 3, dHead]), 3, 1).map((t) => tf.reshape(t, [nHeads * dHead]) as tf.Tensor1D);
    return { W_Q: q!, W_K: k!, W_V: v!, b_Q: biases?.[0], b_K: biases?.[1], b_V: biases?.[2] };
  });
}

/** Reads GPT-NeoX weights from an open checkpoint. */
export async function convertGptNeoX(ckpt: Checkpoint, cfg: GptNeoXConfig): Promise<GptNeoXWeights> {
  const r = new WeightReader(ckpt, ['gpt_neox.', '']);
  const d = cfg.dModel;
  const width = cfg.nHeads * cfg.dHead;
  const blocks = await readBlocks(cfg.nLayers, async (i): Promise<GptNeoXWeights['blocks'][number]> => {
    const p = `layers.${i}`;
    const fusedW = (await r.float(`${p}.attention.query_key_value.weight`, [3 * width, d])) as tf.Tensor2D;
    const fusedB = cfg.attentionBias ? ((await r.float(`${p}.attention.query_key_value.bias`, [3 * width])) as tf.Tensor1D) : undefined;
    const qkv = splitFusedQkv(fusedW, fusedB, cfg.nHeads, cfg.dHead);
    tf.dispose([fusedW, ...(fusedB ? [fusedB] : [])]);
    const out = await readLinear(r, `${p}.attention.dense`, width, d, cfg.attentionBias);
    const up = await readLinear(r, `${p}.mlp.dense_h_to_4h`, d, cfg.dMlp);
    const down = await readLinear(r, `${p}.mlp.dense_4h_to_h`, cfg.dMlp, d);
    return {
      ln1: await readLayerNorm(r, `${p}.input_layernorm`, d),
      attn: { ...qkv, W_O: out.W, b_O: out.b },
      ln2: await readLayerNorm(r, `${p}.post_attention_layernorm`, d),
      mlp: { W_in: up.W, b_in: up.b!, W_out: down.W, b_out: down.b! },
    };
  });
  const W_E = (await r.float('embed_in.weight', [cfg.dVocab, d])) as tf.Tensor2D;
  const top = new WeightReader(ckpt, ['']);
  const unembedKey = top.has('lm_head.weight') ? 'lm_head.weight' : 'embed_out.weight';
  return {
    W_E,
    lnFinal: await readLayerNorm(r, 'final_layer_norm', d),
    unembed: cfg.tieWordEmbeddings ? undefined : ((await top.float(unembedKey, [cfg.dVocab, d])) as tf.Tensor2D),
    blocks,
  };
}
