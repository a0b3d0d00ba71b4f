/**
 * Logit lens (docs/methods.md §0, §11c): read every residual state h_0 … h_L through the model's own
 * readout — the final layer norm **recomputed with that state's own statistics** (never the cached
 * `ln_final.hook_scale`, which belongs to h_L only: TransformerLens issue #1076) followed by the
 * unembedding (GPT-2, Whisper), the classifier on the CLS position (ViT) or the MLM head (BERT).
 *
 * Layer convention here: index ℓ = 0 … L means h_ℓ (embedding included, the `mat` convention). The
 * top-k helpers in `topk.ts` default to the beyond_top1 convention j = 0 … L−1 meaning h_{j+1}.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationCache } from '../nn/activation-cache.js';
import type { CacheRun, RunWithCacheOptions, RunWithHooksOptions } from '../nn/hooked-root.js';
import { residName, type LensModel } from '../nn/lens-model.js';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';

/**
 * A `LensModel` that can also be run with hooks and caches (every `HookedRoot` model: HookedGPT2, ViT,
 * Whisper, BERT). `Input` is what the model's `forward` accepts (token ids, pixel tensors, …).
 */
export interface HookedLensModel<Input = never> extends LensModel {
  runWithHooks(input: Input, opts: RunWithHooksOptions): Promise<tf.Tensor>;
  runWithCache(input: Input, opts?: RunWithCacheOptions): Promise<CacheRun>;
  forward(input: Input, opts?: { stopAtLayer?: number }): Promise<tf.Tensor>;
  hookNames(): string[];
}

/** Options of `logitLens`. */
export interface LogitLensOptions {
  /** Residual indices ℓ ∈ 0 … L to read (h_ℓ); default all L+1, in this order. */
  layers?: readonly number[];
  /** Positions to read (default all). Not allowed for `lensPositions: 'cls'` models (always position 0). */
  positions?: readonly number[];
}

/**
 * Hook names of the residual states h_0 … h_L (`blocks.0.hook_resid_pre`, `blocks.{l}.hook_resid_post`),
 * for `runWithCache(input, { namesFilter: residNamesFilter(model) })`, which then caches nothing else.
 * @param layers residual indices ℓ (default 0 … L).
 */
export function residNamesFilter(model: Pick<LensModel, 'nLayers' | 'residPrefix'>, layers?: readonly number[]): string[] {
  const ls = layers ?? Array.from({ length: model.nLayers + 1 }, (_, l) => l);
  return ls.map((l) => {
    checkLayer(model, l);
    return residName(model, l);
  });
}

/** Throws unless 0 ≤ layer ≤ L. */
export function checkLayer(model: Pick<LensModel, 'nLayers'>, layer: number): void {
  if (!Number.isInteger(layer) || layer < 0 || layer > model.nLayers) {
    throw new InvalidArgumentError(`residual index ${layer} is outside 0..${model.nLayers} (h_0 is the embedding, h_${model.nLayers} the last block's output)`);
  }
}

/** Checks that `positions` are valid indices of an axis of length `size`. */
export function checkPositions(positions: readonly number[], size: number, what = 'position'): void {
  for (const p of positions) {
    if (!Number.isInteger(p) || p < 0 || p >= size) throw new InvalidArgumentError(`${what} ${p} is outside 0..${size - 1}`);
  }
}

/**
 * The lensed slice of one residual state: `[batch, pos, d]` → `[batch, nPos, d]` (chosen positions) or,
 * for CLS models, `[batch, d]` (position 0). Returns a new tensor (caller disposes).
 */
export function lensInput(model: Pick<LensModel, 'lensPositions'>, resid: tf.Tensor, positions?: readonly number[]): tf.Tensor {
  if (resid.rank !== 3) throw new ShapeMismatchError('residual state for the lens', '[batch, pos, dModel]', resid.shape);
  return tf.tidy(() => {
    if (model.lensPositions === 'cls') {
      if (positions) throw new InvalidArgumentError("positions cannot be chosen for a model whose lens reads only the CLS position ('cls')");
      return tf.squeeze(tf.slice(resid, [0, 0, 0], [-1, 1, -1]), [1]);
    }
    if (!positions) return tf.clone(resid);
    checkPositions(positions, resid.shape[1]!);
    return tf.gather(resid, tf.tensor1d(positions as number[], 'int32'), 1);
  });
}

/**
 * Logit lens from a cache: `lensLogits(h_ℓ)` for every requested ℓ, stacked.
 *
 * @param cache must hold the residual states (run with `namesFilter: residNamesFilter(model)`).
 * @returns logits `[nLayers, batch, nPos, dVocab]` (nLayers = L+1 or `layers.length`, nPos = T or
 *   `positions.length`); for CLS models (ViT) `[nLayers, batch, classes]`. Caller disposes.
 */
export function logitLens(model: LensModel, cache: ActivationCache, opts: LogitLensOptions = {}): tf.Tensor {
  const layers = opts.layers ?? Array.from({ length: model.nLayers + 1 }, (_, l) => l);
  if (!layers.length) throw new InvalidArgumentError('logitLens: layers is empty');
  for (const l of layers) checkLayer(model, l);
  return tf.tidy(() => {
    const perLayer = layers.map((l) => {
      const input = lensInput(model, cache.get(residName(model, l)), opts.positions);
      return model.lensLogits(input);
    });
    return tf.stack(perLayer);
  });
}
