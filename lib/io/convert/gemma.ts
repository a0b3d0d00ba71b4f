/**
 * Gemma 2 / Gemma 3 (text) weight conversion: Hugging Face checkpoint keys (`model.` prefix; a multimodal
 * `gemma3` checkpoint's text model under `model.language_model.` (transformers 5) or `language_model.model.`
 * (published)) → input-major tensors per component. RMS norm weights are returned as stored (`w`; the model
 * multiplies by `1 + w`). The unembedding is tied to the embedding unless config.json unties it.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Checkpoint } from '../checkpoint.js';
import type { GemmaConfig } from '../config/gemma.js';
import type { AttentionWeights, GatedMlpWeights } from './weights.js';
import { WeightReader, readBlocks, readLinear } from './common.js';

/** One Gemma decoder layer's weights (RMS norm weights `[d]` as stored). */
export interface GemmaBlockWeights {
  ln1: tf.Tensor1D;
  attn: AttentionWeights;
  /** Per-head q / k norm weights `[dHead]` (Gemma 3). */
  qNorm?: tf.Tensor1D;
  kNorm?: tf.Tensor1D;
  /** `post_attention_layernorm`. */
  ln1Post: tf.Tensor1D;
  /** `pre_feedforward_layernorm`. */
  ln2: tf.Tensor1D;
  mlp: GatedMlpWeights;
  /** `post_feedforward_layernorm`. */
  ln2Post: tf.Tensor1D;
}

/** All Gemma weights, input-major. */
export interface GemmaWeights {
  /** Token embedding `[dVocab, dModel]`, unscaled (the model multiplies by √dModel). */
  W_E: tf.Tensor2D;
  lnFinal: tf.Tensor1D;
  /** Separate unembedding `[dVocab, dModel]` when not tied. */
  unembed?: tf.Tensor2D;
  blocks: GemmaBlockWeights[];
}

const TEXT_PREFIXES = ['model.', 'model.language_model.', 'language_model.model.', ''];

/**
 * Checkpoint keys a Gemma may leave unread: a stored tied `lm_head.weight`, and a multimodal checkpoint's
 * vision tower and projector.
 */
export function gemmaIgnorableKey(key: string, cfg: GemmaConfig): boolean {
  if (/^(model\.)?(vision_tower|multi_modal_projector)\./.test(key)) return true;
  return cfg.tieWordEmbeddings && /^(language_model\.)?lm_head\.weight$/.test(key);
}

/** Reads Gemma weights from an open checkpoint. */
export async function convertGemma(ckpt: Checkpoint, cfg: GemmaConfig): Promise<GemmaWeights> {
  const r = new WeightReader(ckpt, TEXT_PREFIXES);
  const d = cfg.dModel;
  const q = cfg.nHeads * cfg.dHead;
  const kv = cfg.nKvHeads * cfg.dHead;
  const vec = async (name: string, n: number) => (await r.float(name, [n])) as tf.Tensor1D;
  const W = async (name: string, dIn: number, dOut: number) => (await readLinear(r, name, dIn, dOut, false)).W;
  const blocks = await readBlocks(cfg.nLayers, async (i): Promise<GemmaBlockWeights> => {
    const p = `layers.${i}`;
    return {
      ln1: await vec(`${p}.input_layernorm.weight`, d),
      attn: {
        W_Q: await W(`${p}.self_attn.q_proj`, d, q),
        W_K: await W(`${p}.self_attn.k_proj`, d, kv),
        W_V: await W(`${p}.self_attn.v_proj`, d, kv),
        W_O: await W(`${p}.self_attn.o_proj`, q, d),
      },
      qNorm: cfg.qkNorm ? await vec(`${p}.self_attn.q_norm.weight`, cfg.dHead) : undefined,
      kNorm: cfg.qkNorm ? await vec(`${p}.self_attn.k_norm.weight`, cfg.dHead) : undefined,
      ln1Post: await vec(`${p}.post_attention_layernorm.weight`, d),
      ln2: await vec(`${p}.pre_feedforward_layernorm.weight`, d),
      mlp: {
        W_gate: await W(`${p}.mlp.gate_proj`, d, cfg.dMlp),
        W_in: await W(`${p}.mlp.up_proj`, d, cfg.dMlp),
        W_out: await W(`${p}.mlp.down_proj`, cfg.dMlp, d),
      },
      ln2Post: await vec(`${p}.post_feedforward_layernorm.weight`, d),
    };
  });
  const W_E = (await r.float('embed_tokens.weight', [cfg.dVocab, d])) as tf.Tensor2D;
  return {
    W_E,
    lnFinal: await vec('norm.weight', d),
    unembed: cfg.tieWordEmbeddings ? undefined : ((await new WeightReader(ckpt, ['', 'language_model.']).float('lm_head.weight', [cfg.dVocab, d])) as tf.Tensor2D),
    blocks,
  };
}
