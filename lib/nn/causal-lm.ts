/**
 * `CausalLmRoot`: what the decoder-only language models (GPT-2, the Llama family) share on top of
 * `HookedTransformerRoot`: token input (text through the tokenizer, ids, padded batches), the unembedding and its
 * TransformerLens views `W_U`/`b_U`, the lens readout (final norm with fresh statistics, then the unembedding),
 * `toTokens`/`decode`/`toStrTokens`, the synchronous `forwardIds`, and the head (`ln_final` → `unembed.hook_in` →
 * unembedding → `unembed.hook_out`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedTransformerRoot } from './hooked-transformer.js';
import { HookPoint, NO_HOOKS, type RunContext } from './hook-point.js';
import type { LensModel, OriginalProbeFeatures } from './lens-model.js';
import { requireTokenizer, strTokens, type LmTokenizer } from './text.js';
import type { Unembed } from './components/unembed.js';
import type { TransformerBlock } from './components/block.js';
import type { RotaryBlock } from './components/rotary-block.js';
import type { LayerNorm } from './components/layer-norm.js';
import type { RmsNorm } from './components/rms-norm.js';
import type { DecoderLmDims } from '../io/config/decoder.js';
import { prepareTokens, prepareTokensAsync, type PreparedTokens, type TokenInput, type TokenInputOptions } from './token-input.js';

/** Options of `toTokens`. */
export interface ToTokensOptions {
  /** Prepend BOS (TransformerLens default true; tfjs-lens default false, like HF and the papers). */
  prependBos?: boolean;
}

/** The config fields every causal language model has (TransformerLens names). */
export type CausalLmConfig = DecoderLmDims;

/** A decoder-only language model with hooks. Subclasses declare their hook points and blocks. */
export abstract class CausalLmRoot extends HookedTransformerRoot<TokenInput, PreparedTokens> implements LensModel {
  readonly residPrefix = '';
  readonly lensPositions = 'all' as const;
  /**
   * Hugging Face's `hidden_states` of every causal LM: raw block outputs below the last layer, the final norm's output at
   * the last (transformers ties `hidden_states[-1]` to `last_hidden_state`).
   */
  readonly originalProbeFeatures: OriginalProbeFeatures = { below: 'resid', last: 'lnFinal' };
  /** Tokenizer for text input (set by `loadModel` from the checkpoint's tokenizer files). */
  tokenizer?: LmTokenizer;
  abstract readonly cfg: CausalLmConfig;
  /** The decoder blocks. */
  abstract readonly blocks: readonly (TransformerBlock | RotaryBlock)[];
  /** The unembedding (tied to the token embedding unless the checkpoint has its own `lm_head`). */
  abstract readonly unembedding: Unembed;
  /** `[batch, pos, dModel]` what the unembedding reads (opt-in). */
  protected abstract readonly hookUnembedIn: HookPoint;
  /** `[batch, pos, dVocab]` logits (opt-in). */
  protected abstract readonly hookUnembedOut: HookPoint;
  abstract readonly nLayers: number;
  protected abstract override get finalNorm(): LayerNorm | RmsNorm;
  /** Vocabulary, context length, BOS and pad ids of this model's token input. */
  protected abstract tokenOptions(prependBos?: boolean): TokenInputOptions;

  /** Unembedding `[dModel, dVocab]` (a transposed copy of the vocab-major matrix, built on first use). */
  get W_U(): tf.Tensor2D {
    return this.unembedding.W_U;
  }

  /** Unembedding bias `[dVocab]` (zeros unless the weights have one, e.g. after `processWeights`). */
  get b_U(): tf.Tensor1D {
    return this.unembedding.b_U;
  }

  /** The unembedding alone: normalized `[..., dModel]` → logits `[..., dVocab]`. */
  unembed(normalized: tf.Tensor): tf.Tensor {
    return this.unembedding.forward(normalized);
  }

  /** Lens readout: the final norm with this input's own statistics, then the unembedding. `[..., dModel]` → `[..., dVocab]`. */
  lensLogits(resid: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.unembed(this.finalNorm.forward(resid, NO_HOOKS)));
  }

  /** Tokenises text (no BOS unless asked) → ids `[1, pos]` (a batch of texts: left-padded with a mask). */
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

  /**
   * Synchronous forward pass on ids `[batch, pos]` with no hooks, for use inside `tf.tidy` or gradient
   * tapes (training, benchmarks). Returns logits `[batch, pos, dVocab]`.
   */
  forwardIds(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor {
    return this.run({ inputIds, attentionMask, owned: [] }, NO_HOOKS, {});
  }

  /** Reads tensor ids asynchronously (a synchronous read of a GPU tensor needs a browser canvas on webgpu). */
  protected prepare(input: TokenInput): Promise<PreparedTokens> {
    return prepareTokensAsync(input, this.tokenOptions());
  }

  protected release(prepared: PreparedTokens): void {
    for (const t of prepared.owned) t.dispose();
  }

  /** TransformerLens 3.x names of the head: `ln_final.hook_in` is the last block's output, `ln_final.hook_out` what the unembedding reads. */
  override canonicalHooks(): Record<string, HookPoint | undefined> {
    const last = this.stack.at(-1) as { hookResidPost?: HookPoint } | undefined;
    return { 'ln_final.hook_in': last?.hookResidPost, 'ln_final.hook_out': this.hookUnembedIn };
  }

  /** Frees every weight tensor. */
  override dispose(): void {
    this.tlStack.dispose();
    super.dispose();
  }

  protected head(resid: tf.Tensor, _p: PreparedTokens, ctx: RunContext): tf.Tensor {
    // unembed.hook_in / hook_out are identities (no allocation) unless the run asks for them.
    return ctx.apply(this.hookUnembedOut, this.unembed(ctx.apply(this.hookUnembedIn, this.finalNorm.forward(resid, ctx))));
  }
}
