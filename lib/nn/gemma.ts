/**
 * HookedGemma: Gemma 2 and Gemma 3 text (`Gemma2ForCausalLM`, `Gemma3ForCausalLM`) with TransformerLens hooks.
 * Embeddings × √dModel; RMS norms with gain 1 + w; sandwich norms around attention and MLP (`ln1_post`,
 * `ln2_post`); grouped-query rotary attention with scores q·k/√query_pre_attn_scalar, sliding-window layers
 * (`layer_types`), attention soft-capping (Gemma 2), per-head q/k norms and a local rope base on sliding layers
 * (Gemma 3); GeGLU MLP (gelu-tanh gate); tied unembedding and final logit soft-capping. Load with `loadModel(dir)`.
 *
 * Hooks (forward order): `hook_embed` (already scaled), per block `blocks.{i}.hook_resid_pre`, `hook_q_input`,
 * `hook_k_input`/`hook_v_input` (opt-in, per key/value head), `ln1.*`, `attn.hook_q/k/v` (k, v: key/value heads),
 * `attn.q_norm.*`, `attn.hook_q_normed`, `attn.k_norm.*`, `attn.hook_k_normed` (Gemma 3), `attn.hook_rot_q/k`,
 * `attn.hook_attn_scores` (after soft-capping, masked −∞), `attn.hook_pattern`, `attn.hook_z`, `attn.hook_result`
 * (lazy), `ln1_post.*`, `hook_attn_out` (after ln1_post), `hook_resid_mid`, `ln2.*`, `mlp.hook_pre` (gate),
 * `mlp.hook_pre_linear` (up), `mlp.hook_post`, `ln2_post.*`, `hook_mlp_out` (after ln2_post), `hook_resid_post`;
 * then `ln_final.*`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { HookedRotaryLM } from './rotary-lm.js';
import { RmsNorm } from './components/rms-norm.js';
import { GroupedQueryAttention } from './components/gqa-attention.js';
import { GatedMlp } from './components/gated-mlp.js';
import { RotaryBlock } from './components/rotary-block.js';
import type { GemmaConfig } from '../io/config/gemma.js';
import type { GemmaWeights } from '../io/convert/gemma.js';

/** Gemma 2 / Gemma 3 text with hooks. */
export class HookedGemma extends HookedRotaryLM<GemmaConfig> {
  constructor(cfg: GemmaConfig, weights: GemmaWeights) {
    const norm = (w: tf.Tensor1D) => new RmsNorm(w, { eps: cfg.eps, offsetGain: true });
    super(cfg, {
      W_E: weights.W_E,
      // HF multiplies by √dModel in the embedding's dtype (float32 here).
      embedScale: Math.sqrt(cfg.dModel),
      blocks: weights.blocks.map((w, i) => {
        const kind = cfg.layerTypes[i]!;
        return new RotaryBlock({
          ln1: norm(w.ln1),
          attn: new GroupedQueryAttention(w.attn, {
            nHeads: cfg.nHeads,
            nKvHeads: cfg.nKvHeads,
            dHead: cfg.dHead,
            scoreScale: 1 / Math.sqrt(cfg.queryPreAttnScalar),
            slidingWindow: kind === 'sliding_attention' ? cfg.slidingWindow : undefined,
            softcap: cfg.attnSoftcap,
            qNorm: w.qNorm && norm(w.qNorm),
            kNorm: w.kNorm && norm(w.kNorm),
          }),
          ln1Post: norm(w.ln1Post),
          ln2: norm(w.ln2),
          mlp: new GatedMlp(w.mlp, cfg.act),
          ln2Post: norm(w.ln2Post),
          rope: cfg.rope[kind],
        });
      }),
      lnFinal: norm(weights.lnFinal),
      unembed: weights.unembed,
      finalSoftcap: cfg.finalSoftcap,
    });
  }

  /** Without ids: describes the model. With ids: `decode(ids)`. */
  override toString(ids?: readonly number[]): string {
    return ids ? this.decode(ids) : `HookedGemma(${this.cfg.modelType}, ${this.cfg.nLayers} layers, d=${this.cfg.dModel})`;
  }
}
