/**
 * HookedGPT2: GPT-2 (small … xl) reimplemented in tfjs with a TransformerLens hook at every sub-module.
 * Load with `loadModel(dir)`; the forward pass returns logits `[batch, pos, dVocab]`.
 *
 * Hooks (forward order): `hook_embed`, `hook_pos_embed`, per block `blocks.{i}.hook_resid_pre`,
 * `ln1.hook_scale`, `ln1.hook_normalized`, `attn.hook_q/k/v`, `attn.hook_attn_scores`, `attn.hook_pattern`,
 * `attn.hook_z`, `attn.hook_result` (lazy), `hook_attn_out`, `hook_resid_mid`, `ln2.*`, `mlp.hook_pre`,
 * `mlp.hook_post`, `hook_mlp_out`, `hook_resid_post`; then `ln_final.hook_scale`, `ln_final.hook_normalized`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Embedded } from './hooked-root.js';
import { CausalLmRoot } from './causal-lm.js';
import { HookPoint, type RunContext } from './hook-point.js';
import { LayerNorm } from './components/layer-norm.js';
import { Attention, buildAttentionMask } from './components/attention.js';
import { Mlp } from './components/mlp.js';
import { TransformerBlock } from './components/block.js';
import { Unembed } from './components/unembed.js';
import { StackedWeights } from './tl-weights.js';
import { positionIds, type PreparedTokens, type TokenInputOptions } from './token-input.js';
import { applyTokenHook } from './input-checks.js';
import type { GPT2Config } from '../io/config/gpt2.js';
import type { GPT2Weights } from '../io/convert/gpt2.js';

export type { LmTokenizer } from './text.js';
export type { ToTokensOptions } from './causal-lm.js';

/** GPT-2 with hooks. */
export class HookedGPT2 extends CausalLmRoot {
  readonly hookTokens = new HookPoint(); // [batch, pos] int32 token ids (opt-in)
  readonly hookEmbed = new HookPoint(); // [batch, pos, dModel]
  readonly hookPosEmbed = new HookPoint(); // [batch, pos, dModel]
  readonly blocks: TransformerBlock[];
  readonly lnFinal: LayerNorm;
  readonly hookUnembedIn = new HookPoint('unembed.hook_in'); // [batch, pos, dModel] ln_final output (opt-in)
  readonly hookUnembedOut = new HookPoint('unembed.hook_out'); // [batch, pos, dVocab] logits (opt-in)
  /** Token embedding `[dVocab, dModel]`. */
  readonly W_E: tf.Tensor2D;
  /** Position embedding `[nCtx, dModel]`. */
  readonly W_pos: tf.Tensor2D;
  /** The unembedding (tied to `W_E` unless config.json unties it: then the checkpoint's `lm_head`). */
  readonly unembedding: Unembed;
  protected readonly tlStack = new StackedWeights(() => this.blocks);

  constructor(
    readonly cfg: GPT2Config,
    weights: GPT2Weights,
  ) {
    super();
    this.W_E = weights.W_E;
    this.W_pos = weights.W_pos;
    this.blocks = weights.blocks.map((w, i) => {
      const scale = (cfg.scaleAttnWeights ? 1 / Math.sqrt(cfg.dHead) : 1) / (cfg.scaleAttnByInverseLayerIdx ? i + 1 : 1);
      return new TransformerBlock({
        ln1: new LayerNorm(w.ln1.w, w.ln1.b, cfg.eps),
        attn: new Attention(w.attn, cfg.nHeads, scale),
        ln2: new LayerNorm(w.ln2.w, w.ln2.b, cfg.eps),
        mlp: new Mlp(w.mlp, cfg.act),
      });
    });
    this.lnFinal = new LayerNorm(weights.lnFinal.w, weights.lnFinal.b, cfg.eps);
    this.unembedding = new Unembed(weights.unembed ?? weights.W_E, weights.unembedBias);
    this.hookPointMap();
  }

  /** Number of blocks. */
  get nLayers(): number {
    return this.cfg.nLayers;
  }

  /** Without ids: describes the model. With ids: `decode(ids)` (kept for compatibility; use `decode`). */
  override toString(ids?: readonly number[]): string {
    return ids ? this.decode(ids) : `HookedGPT2(${this.cfg.nLayers} layers, d=${this.cfg.dModel})`;
  }

  protected tokenOptions(prependBos = false): TokenInputOptions {
    return {
      vocabSize: this.cfg.dVocab,
      maxPositions: this.cfg.nCtx,
      tokenizer: this.tokenizer,
      prependBos: prependBos ? (this.cfg.bosTokenId ?? 50256) : undefined,
      padId: this.cfg.eosTokenId ?? 0,
    };
  }

  protected get stack(): readonly TransformerBlock[] {
    return this.blocks;
  }

  protected get finalNorm(): LayerNorm {
    return this.lnFinal;
  }

  protected embedPrepared(p: PreparedTokens, ctx: RunContext): Embedded {
    const [batch, pos] = p.inputIds.shape;
    const ids = applyTokenHook(ctx, this.hookTokens, p.inputIds, this.cfg.dVocab);
    const embed = ctx.apply(this.hookEmbed, tf.gather(this.W_E, ids));
    const posEmbed = ctx.apply(this.hookPosEmbed, tf.gather(this.W_pos, positionIds(batch, pos, p.attentionMask)));
    return { resid: tf.add(embed, posEmbed), inputs: { mask: buildAttentionMask(pos, { causal: true, attentionMask: p.attentionMask }) } };
  }
}
