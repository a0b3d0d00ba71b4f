/**
 * `HookedRotaryLM`: what the rotary decoder language models share (GPT-NeoX / Pythia, Gemma 2, Gemma 3): token
 * embedding (optionally × a scale: Gemma's √dModel), a stack of `RotaryBlock`s reading the input's position
 * ids, a final norm, an unembedding and optional final logit soft-capping (Gemma). Families subclass it with
 * their config and blocks. The forward pass returns logits `[batch, pos, dVocab]`.
 *
 * Hooks: `hook_embed`, the blocks' hooks, `ln_final.hook_scale`, `ln_final.hook_normalized`; opt-in
 * `hook_tokens`, `unembed.hook_in`, `unembed.hook_out` (logits before the final soft-capping, as TransformerLens).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Embedded } from './hooked-root.js';
import { HookedRoot } from './hooked-root.js';
import { HookPoint, NO_HOOKS, type RunContext } from './hook-point.js';
import type { LensModel } from './lens-model.js';
import { requireTokenizer, strTokens, type LmTokenizer } from './text.js';
import { buildAttentionMask } from './components/attention.js';
import type { RotaryBlock, BlockNorm } from './components/rotary-block.js';
import { Unembed } from './components/unembed.js';
import { prepareTokens, positionIds, type PreparedTokens, type TokenInput } from './token-input.js';
import { applyTokenHook } from './input-checks.js';

export type { LmTokenizer } from './text.js';

/** What the base needs from a family's config. */
export interface RotaryLmConfig {
  nLayers: number;
  dModel: number;
  nHeads: number;
  dVocab: number;
  /** Longest input accepted (`max_position_embeddings`). */
  nCtx: number;
  bosTokenId?: number;
  eosTokenId?: number;
  padTokenId?: number;
}

/** The parts a family builds for the base. */
export interface RotaryLmParts {
  /** Token embedding `[dVocab, dModel]` as stored. */
  W_E: tf.Tensor2D;
  /** Multiplier of the gathered embedding (Gemma: √dModel; default 1). */
  embedScale?: number;
  blocks: RotaryBlock[];
  lnFinal: BlockNorm;
  /** Unembedding `[dVocab, dModel]`; default the tied `W_E`. */
  unembed?: tf.Tensor2D;
  /** Final logit soft-capping: logits → cap · tanh(logits / cap) (Gemma). */
  finalSoftcap?: number;
}

/** Options of `toTokens`. */
export interface ToTokensOptions {
  /** Prepend BOS (TransformerLens default true; tfjs-lens default false, like HF's raw ids). */
  prependBos?: boolean;
}

/** A rotary decoder language model with hooks. */
export abstract class HookedRotaryLM<Cfg extends RotaryLmConfig> extends HookedRoot<TokenInput, PreparedTokens> implements LensModel {
  readonly residPrefix = '';
  readonly lensPositions = 'all' as const;
  readonly hookTokens = new HookPoint(); // [batch, pos] int32 token ids (opt-in)
  readonly hookEmbed = new HookPoint(); // [batch, pos, dModel]
  readonly blocks: RotaryBlock[];
  readonly lnFinal: BlockNorm;
  readonly hookUnembedIn = new HookPoint('unembed.hook_in'); // [batch, pos, dModel] ln_final output (opt-in)
  readonly hookUnembedOut = new HookPoint('unembed.hook_out'); // [batch, pos, dVocab] logits before soft-capping (opt-in)
  /** Token embedding `[dVocab, dModel]` as stored (before any `embedScale`). */
  readonly W_E: tf.Tensor2D;
  readonly embedScale: number;
  readonly unembedding: Unembed;
  readonly finalSoftcap?: number;
  /** Tokenizer for text input (set by `loadModel` when the checkpoint has one). */
  tokenizer?: LmTokenizer;

  constructor(
    readonly cfg: Cfg,
    parts: RotaryLmParts,
  ) {
    super();
    this.W_E = parts.W_E;
    this.embedScale = parts.embedScale ?? 1;
    this.blocks = parts.blocks;
    this.lnFinal = parts.lnFinal;
    this.unembedding = new Unembed(parts.unembed ?? parts.W_E);
    this.finalSoftcap = parts.finalSoftcap;
    this.hookPointMap();
  }

  /** Unembedding `[dModel, dVocab]` (a transposed copy, built on first use). */
  get W_U(): tf.Tensor2D {
    return this.unembedding.W_U;
  }

  /** Unembedding bias `[dVocab]` (zeros). */
  get b_U(): tf.Tensor1D {
    return this.unembedding.b_U;
  }

  /** Number of blocks. */
  get nLayers(): number {
    return this.cfg.nLayers;
  }

  /** The unembedding and the final soft-capping: normalized `[..., dModel]` → logits `[..., dVocab]`. */
  unembed(normalized: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.softcap(this.unembedding.forward(normalized)));
  }

  private softcap(logits: tf.Tensor): tf.Tensor {
    const cap = this.finalSoftcap;
    return cap === undefined ? logits : tf.mul(tf.tanh(tf.div(logits, cap)), cap);
  }

  /** Lens readout: the final norm with this input's own statistics, the unembedding, the final soft-capping. `[..., dModel]` → `[..., dVocab]`. */
  lensLogits(resid: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.unembed(this.lnFinal.forward(resid, NO_HOOKS)));
  }

  /** Tokenises text (no BOS unless asked) → ids `[1, pos]`. */
  toTokens(text: string | readonly string[], opts: ToTokensOptions = {}): PreparedTokens {
    return prepareTokens(text, this.tokenOptions(opts.prependBos));
  }

  /** Ids → text (TransformerLens `to_string`). */
  decode(ids: readonly number[]): string {
    return requireTokenizer(this).decode(ids);
  }

  /** One string per token (each id decoded on its own, as TransformerLens `to_str_tokens`). */
  toStrTokens(input: string | readonly number[]): string[] {
    return strTokens(requireTokenizer(this), input);
  }

  private tokenOptions(prependBos = false) {
    return {
      vocabSize: this.cfg.dVocab,
      maxPositions: this.cfg.nCtx,
      tokenizer: this.tokenizer,
      prependBos: prependBos ? (this.cfg.bosTokenId ?? 0) : undefined,
      padId: this.cfg.padTokenId ?? this.cfg.eosTokenId ?? 0,
    };
  }

  /**
   * Synchronous forward pass on ids `[batch, pos]` with no hooks, for use inside `tf.tidy` or gradient tapes.
   * Returns logits `[batch, pos, dVocab]`.
   */
  forwardIds(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor {
    return this.run({ inputIds, attentionMask, owned: [] }, NO_HOOKS, {});
  }

  protected prepare(input: TokenInput): PreparedTokens {
    return prepareTokens(input, this.tokenOptions());
  }

  protected release(prepared: PreparedTokens): void {
    for (const t of prepared.owned) t.dispose();
  }

  protected get stack(): readonly RotaryBlock[] {
    return this.blocks;
  }

  protected get finalNorm(): BlockNorm {
    return this.lnFinal;
  }

  /** TransformerLens 3.x names of the head: `ln_final.hook_in` is the last block's output, `ln_final.hook_out` what the unembedding reads. */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    return { 'ln_final.hook_in': this.blocks.at(-1)?.hookResidPost, 'ln_final.hook_out': this.hookUnembedIn };
  }

  protected embedPrepared(p: PreparedTokens, ctx: RunContext): Embedded {
    const [batch, pos] = p.inputIds.shape;
    const ids = applyTokenHook(ctx, this.hookTokens, p.inputIds, this.cfg.dVocab);
    const gathered = tf.gather(this.W_E, ids);
    const embed = ctx.apply(this.hookEmbed, this.embedScale === 1 ? gathered : tf.mul(gathered, this.embedScale));
    return {
      resid: embed,
      inputs: { mask: buildAttentionMask(pos, { causal: true, attentionMask: p.attentionMask }), positions: positionIds(batch, pos, p.attentionMask) },
    };
  }

  protected head(resid: tf.Tensor, _p: PreparedTokens, ctx: RunContext): tf.Tensor {
    // unembed.hook_in / hook_out are identities (no allocation) unless the run asks for them.
    const normalized = ctx.apply(this.hookUnembedIn, this.lnFinal.forward(resid, ctx));
    return this.softcap(ctx.apply(this.hookUnembedOut, this.unembedding.forward(normalized)));
  }
}
