/**
 * Residual-stream decompositions of an activation cache, with TransformerLens `ActivationCache` semantics
 * (docs/methods.md §11c): `accumulatedResid`, `decomposeResid`, `applyLnToStack`, `logitAttrs`,
 * `stackHeadResults`. Stacks are `[components, batch, pos, dModel]` with one label per component.
 *
 * Layer norms: `applyLnToStack` (and `applyLn` below layer L) centres each component and divides it by
 * the **cached** `hook_scale` of the layer norm that reads that layer (no gain or bias — exact when the
 * weights are processed with `processWeights`, as TransformerLens assumes). At layer L, `applyLn` of
 * `accumulatedResid` (and `recomputeLn`) instead applies the model's final layer norm to each component
 * with its own statistics — the true logit lens; the cached final scale belongs to h_L only
 * (TransformerLens issue #1076).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationCache } from '../nn/activation-cache.js';
import { residName, type LensModel } from '../nn/lens-model.js';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { checkPositions } from './logit-lens.js';

/** What the residual helpers read from a model beyond `LensModel` (every hooked model has all of it). */
export interface ResidModel extends LensModel {
  /** Unembedding `[dModel, dVocab]` (for `logitAttrs`). */
  readonly W_U?: tf.Tensor;
  /** Per-head output weights `[L, H, dHead, dModel]` (for `stackHeadResults` from `hook_z`). */
  readonly W_O?: tf.Tensor;
  /** The model's tokenizer (for `logitAttrs` with string tokens). */
  readonly tokenizer?: { encode(text: string): number[] };
}

/** A stack of residual components and their labels. */
export interface ResidStack {
  /** `[components, batch, nPos, dModel]`. Caller disposes. */
  stack: tf.Tensor;
  /** One label per component (`'0_pre'`, `'2_mid'`, `'final_post'`, `'embed'`, `'1_attn_out'`, `'L0H3'` …). */
  labels: string[];
}

/** Options shared by the stack builders. */
export interface StackOptions {
  /** Residual layer 0 … L (default L). */
  layer?: number;
  /** Read the input of the MLP of `layer` (resid_mid) instead of the attention input (resid_pre). */
  mlpInput?: boolean;
  /** Apply the layer norm that reads `layer` (see module comment). */
  applyLn?: boolean;
  /** Keep only these positions (the pos axis stays). */
  posSlice?: readonly number[];
}

function resolveLayer(model: LensModel, layer: number | undefined): number {
  let l = layer ?? model.nLayers;
  if (l < 0) l = model.nLayers + 1 + l;
  if (!Number.isInteger(l) || l < 0 || l > model.nLayers) throw new InvalidArgumentError(`layer ${layer} is outside 0..${model.nLayers}`);
  return l;
}

function sliceStackPositions(t: tf.Tensor, posSlice: readonly number[] | undefined): tf.Tensor {
  if (!posSlice) return t;
  const axis = t.rank - 2;
  checkPositions(posSlice, t.shape[axis]!);
  return tf.gather(t, tf.tensor1d(posSlice as number[], 'int32'), axis);
}

/**
 * The accumulated residual stream up to `layer` (TL `accumulated_resid`): for layer < L the states
 * `resid_pre_0 … resid_pre_layer` (+ `resid_mid_l` after each l < layer with `inclMid`, + `resid_mid_layer`
 * with `mlpInput`); for layer = L `resid_pre_0 … resid_pre_{L−1}` then `resid_post_{L−1}` ('final_post').
 * With `applyLn` at layer L every component gets the final layer norm with its own statistics, so
 * `stack @ W_U` is the logit lens.
 * @returns stack `[n, batch, nPos, dModel]`, labels `'{l}_pre'`, `'{l}_mid'`, `'final_post'`.
 */
export function accumulatedResid(cache: ActivationCache, model: ResidModel, opts: StackOptions & { inclMid?: boolean } = {}): ResidStack {
  const layer = resolveLayer(model, opts.layer);
  const L = model.nLayers;
  const names: string[] = [];
  const labels: string[] = [];
  for (let l = 0; l <= layer; l++) {
    if (l === L) {
      names.push(residName(model, L));
      labels.push('final_post');
      continue;
    }
    names.push(`${model.residPrefix}blocks.${l}.hook_resid_pre`);
    labels.push(`${l}_pre`);
    if ((opts.inclMid && l < layer) || (opts.mlpInput && l === layer)) {
      names.push(`${model.residPrefix}blocks.${l}.hook_resid_mid`);
      labels.push(`${l}_mid`);
    }
  }
  const stack = tf.tidy(() => {
    const raw = tf.stack(names.map((n) => sliceStackPositions(cache.get(n), opts.posSlice)));
    if (!opts.applyLn) return raw;
    return applyLnToStack(raw, cache, model, { layer, mlpInput: opts.mlpInput, posSlice: opts.posSlice, recomputeLn: layer === L });
  });
  return { stack, labels };
}

/**
 * The residual stream at `layer` split into what wrote it (TL `decompose_resid`): `[embed, pos_embed,
 * 0_attn_out, 0_mlp_out, …]`, which sums to `resid_pre_layer` (to `resid_mid_layer` with `mlpInput`).
 * Models without `hook_embed`/`hook_pos_embed` use `blocks.0.hook_resid_pre` as one `'embed'` component;
 * decoder blocks with cross-attention add `'{l}_cross_attn_out'`.
 * @param opts.mode `'all'` (default), `'attn'` (attention outputs only) or `'mlp'` (MLP outputs only).
 * @param opts.inclEmbeds include the embedding components (default true).
 */
export function decomposeResid(cache: ActivationCache, model: ResidModel, opts: StackOptions & { mode?: 'all' | 'mlp' | 'attn'; inclEmbeds?: boolean } = {}): ResidStack {
  const layer = resolveLayer(model, opts.layer);
  const mode = opts.mode ?? 'all';
  if (!['all', 'mlp', 'attn'].includes(mode)) throw new InvalidArgumentError(`decomposeResid: mode '${mode}' is not 'all', 'mlp' or 'attn'`);
  if (opts.mlpInput && layer === model.nLayers) throw new InvalidArgumentError('decomposeResid: mlpInput needs a layer below L');
  const inclAttn = mode !== 'mlp';
  const inclMlp = mode !== 'attn';
  const p = model.residPrefix;
  const names: string[] = [];
  const labels: string[] = [];
  if (opts.inclEmbeds ?? true) {
    const hasEmbed = cache.has(`${p}hook_embed`);
    const hasPos = cache.has(`${p}hook_pos_embed`);
    if (hasEmbed) names.push(`${p}hook_embed`), labels.push('embed');
    if (hasPos) names.push(`${p}hook_pos_embed`), labels.push('pos_embed');
    if (!hasEmbed && !hasPos) names.push(`${p}blocks.0.hook_resid_pre`), labels.push('embed');
  }
  const attnParts = (l: number): void => {
    names.push(`${p}blocks.${l}.hook_attn_out`);
    labels.push(`${l}_attn_out`);
    if (cache.has(`${p}blocks.${l}.hook_cross_attn_out`)) {
      names.push(`${p}blocks.${l}.hook_cross_attn_out`);
      labels.push(`${l}_cross_attn_out`);
    }
  };
  for (let l = 0; l < layer; l++) {
    if (inclAttn) attnParts(l);
    if (inclMlp) names.push(`${p}blocks.${l}.hook_mlp_out`), labels.push(`${l}_mlp_out`);
  }
  if (opts.mlpInput && inclAttn) attnParts(layer);
  if (!names.length) throw new InvalidArgumentError('decomposeResid: nothing to decompose (layer 0 without embeddings)');
  const stack = tf.tidy(() => {
    const raw = tf.stack(names.map((n) => sliceStackPositions(cache.get(n), opts.posSlice)));
    if (!opts.applyLn) return raw;
    return applyLnToStack(raw, cache, model, { layer, mlpInput: opts.mlpInput, posSlice: opts.posSlice });
  });
  return { stack, labels };
}

/** Options of `applyLnToStack`. */
export interface ApplyLnOptions {
  /** Residual layer 0 … L whose reader's layer norm applies (default L: the final layer norm). */
  layer?: number;
  /** Use ln2 (the MLP's input) of `layer` instead of ln1. */
  mlpInput?: boolean;
  /** Positions the stack was sliced to (the cached scale is sliced the same way). */
  posSlice?: readonly number[];
  /**
   * Apply the layer norm module itself (gain and bias included) to every component with its own
   * statistics, instead of dividing by the cached scale. Default false.
   */
  recomputeLn?: boolean;
}

/**
 * Applies the layer norm that reads residual `layer` to every component of `stack` (TL
 * `apply_ln_to_stack`): `(x − mean_d x) / cachedScale` with the cached `hook_scale` of ln_final (layer L),
 * ln1 or ln2 (`mlpInput`) of that block — no gain or bias. `recomputeLn` applies the layer norm module
 * to each component with its own statistics instead.
 * @param stack `[..., batch, nPos, dModel]`; positions must match `posSlice` (or all positions).
 * @returns same shape (caller disposes).
 */
export function applyLnToStack(stack: tf.Tensor, cache: ActivationCache, model: ResidModel, opts: ApplyLnOptions = {}): tf.Tensor {
  const layer = resolveLayer(model, opts.layer);
  const L = model.nLayers;
  const p = model.residPrefix;
  if (stack.rank < 3) throw new ShapeMismatchError('residual stack', '[..., batch, pos, dModel]', stack.shape);
  if (opts.mlpInput && layer === L) throw new InvalidArgumentError('applyLnToStack: mlpInput needs a layer below L');
  if (opts.recomputeLn) {
    const ln = model.lensNorm?.(layer, { mlpInput: opts.mlpInput });
    if (!ln) throw new InvalidArgumentError(`applyLnToStack: this model exposes no layer norm module for layer ${layer}`, 'use the cached scale (recomputeLn: false)');
    return ln(stack);
  }
  const scaleName = layer === L ? `${p}ln_final.hook_scale` : `${p}blocks.${layer}.${opts.mlpInput ? 'ln2' : 'ln1'}.hook_scale`;
  if (!cache.has(scaleName)) throw new InvalidArgumentError(`applyLnToStack: the cache has no '${scaleName}'`, 'cache the layer norm scale too (or pass recomputeLn: true)');
  return tf.tidy(() => {
    let scale = cache.get(scaleName);
    if (opts.posSlice) scale = sliceStackPositions(scale, opts.posSlice);
    const [batch, nPos] = scale.shape;
    if (stack.shape[stack.rank - 3] !== batch || stack.shape[stack.rank - 2] !== nPos) {
      throw new ShapeMismatchError(`residual stack (against the cached '${scaleName}'${opts.posSlice ? ' at posSlice' : ''})`, `[..., ${batch}, ${nPos}, dModel]`, stack.shape);
    }
    const centred = tf.sub(stack, tf.mean(stack, -1, true));
    return tf.div(centred, scale);
  });
}

/**
 * Logit attribution of each component (TL `logit_attrs`): `applyLnToStack(stack, L) · W_U[:, token]`
 * (minus `W_U[:, incorrect]`), summed over dModel; `b_U` is ignored.
 * @param stack `[n, batch, nPos, dModel]` (positions as in `posSlice`).
 * @param tokens one token for everything, one per batch item (`[batch]`), or one per item and position
 *   (`[batch][nPos]`); a token is an id or a string that the model's tokenizer makes exactly one token
 *   (TL `to_single_token`: `' Paris'`, with GPT-2's leading space), else `InvalidArgumentError`.
 * @param incorrectTokens any of the same forms (e.g. one per batch item against per-position tokens);
 *   each form is checked against the stack's batch and positions (`ShapeMismatchError`).
 * @returns `[n, batch, nPos]` (caller disposes). A stack that is not `[n, batch, nPos, dModel]` with the
 *   cached batch and positions raises `ShapeMismatchError`.
 */
export function logitAttrs(
  stack: tf.Tensor,
  cache: ActivationCache,
  model: ResidModel,
  tokens: LogitTokens,
  incorrectTokens?: LogitTokens,
  opts: { posSlice?: readonly number[] } = {},
): tf.Tensor {
  const W_U = model.W_U;
  if (!W_U) throw new InvalidArgumentError('logitAttrs: this model has no unembedding W_U');
  const ids = (t: LogitTokens): number | readonly number[] | readonly (readonly number[])[] => tokenIds(t, model);
  const correct = ids(tokens);
  const incorrect = incorrectTokens === undefined ? undefined : ids(incorrectTokens);
  if (stack.rank !== 4 || stack.shape[3] !== W_U.shape[0]) throw new ShapeMismatchError('logitAttrs residual stack', `[components, batch, pos, ${W_U.shape[0]}]`, stack.shape);
  const [, batch, nPos] = stack.shape as [number, number, number, number];
  const dirs = (t: number | readonly number[] | readonly (readonly number[])[]): tf.Tensor => {
    const vocab = W_U.shape[1]!;
    const flat = typeof t === 'number' ? [t] : (t as readonly (number | readonly number[])[]).flat() as number[];
    for (const id of flat) if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new InvalidArgumentError(`logitAttrs: token id ${id} is outside 0..${vocab - 1}`);
    const cols = tf.transpose(tf.gather(W_U, tf.tensor1d(flat, 'int32'), 1)); // [count, d]
    if (typeof t === 'number') return tf.reshape(cols, [-1]);
    if (typeof t[0] === 'number') {
      if (t.length !== batch) throw new ShapeMismatchError('logitAttrs tokens', `[${batch}]`, [t.length]);
      return tf.reshape(cols, [batch, 1, -1]);
    }
    if (t.length !== batch || (t as readonly (readonly number[])[]).some((r) => r.length !== nPos)) throw new ShapeMismatchError('logitAttrs tokens', `[${batch}][${nPos}]`, `[${t.length}][…]`);
    return tf.reshape(cols, [batch, nPos, -1]);
  };
  return tf.tidy(() => {
    let direction = dirs(correct);
    if (incorrect !== undefined) direction = tf.sub(direction, dirs(incorrect));
    const scaled = applyLnToStack(stack, cache, model, { layer: model.nLayers, posSlice: opts.posSlice });
    return tf.sum(tf.mul(scaled, direction), -1);
  });
}

/** Tokens of `logitAttrs`: ids or single-token strings, one, per batch item, or per item and position. */
export type LogitTokens = number | string | readonly (number | string)[] | readonly (readonly (number | string)[])[];

/** A string token → its one id by the model's tokenizer (TL `to_single_token`). */
function singleToken(text: string, model: ResidModel): number {
  if (!model.tokenizer) throw new InvalidArgumentError(`logitAttrs: token ${JSON.stringify(text)} is a string and this model has no tokenizer`, 'pass token ids');
  const ids = model.tokenizer.encode(text);
  if (ids.length !== 1) throw new InvalidArgumentError(`logitAttrs: token ${JSON.stringify(text)} is ${ids.length} tokens (${ids.join(', ')}), not one`, 'pass a single-token string (GPT-2 words usually need their leading space, e.g. " Paris") or its id');
  return ids[0]!;
}

function tokenIds(t: LogitTokens, model: ResidModel): number | readonly number[] | readonly (readonly number[])[] {
  const one = (x: unknown): number => (typeof x === 'string' ? singleToken(x, model) : (x as number));
  if (!Array.isArray(t)) return one(t);
  return (t as readonly unknown[]).map((row) => (Array.isArray(row) ? row.map(one) : one(row))) as readonly number[] | readonly (readonly number[])[];
}

/**
 * Per-head outputs `z_h · W_O[h]` (no b_O) of every head in blocks 0 … layer−1 (TL `stack_head_results`),
 * from cached `attn.hook_result`, or computed from cached `attn.hook_z` and the model's `W_O`.
 * At layer 0 an empty stack `[0, batch, nPos, dModel]` (shaped as the cached h_0 or `hook_embed`), as TL returns.
 * @returns stack `[layer·H, batch, nPos, dModel]`, labels `'L{l}H{h}'`.
 */
export function stackHeadResults(cache: ActivationCache, model: ResidModel, opts: { layer?: number; posSlice?: readonly number[]; applyLn?: boolean } = {}): ResidStack {
  const layer = resolveLayer(model, opts.layer);
  const p = model.residPrefix;
  if (layer === 0) {
    const shaped = [residName(model, 0), `${p}hook_embed`].find((n) => cache.has(n));
    if (!shaped) throw new InvalidArgumentError(`stackHeadResults: layer 0 has no heads, and the empty stack takes its shape from '${residName(model, 0)}' or '${p}hook_embed', which the cache lacks`, 'cache one of them');
    const [batch, pos, d] = cache.get(shaped).shape as [number, number, number];
    const nPos = opts.posSlice ? (checkPositions(opts.posSlice, pos), opts.posSlice.length) : pos;
    return { stack: tf.zeros([0, batch, nPos, d]), labels: [] };
  }
  const labels: string[] = [];
  // W_O is built lazily and owned by the model: read it (only if needed) outside the tidy below.
  const needsZ = Array.from({ length: layer }, (_, l) => l).some((l) => !cache.has(`${p}blocks.${l}.attn.hook_result`));
  const modelW_O = needsZ ? model.W_O : undefined;
  const stack = tf.tidy(() => {
    const perLayer: tf.Tensor[] = [];
    for (let l = 0; l < layer; l++) {
      let result: tf.Tensor; // [batch, pos, H, d]
      if (cache.has(`${p}blocks.${l}.attn.hook_result`)) {
        result = cache.get(`${p}blocks.${l}.attn.hook_result`);
      } else if (cache.has(`${p}blocks.${l}.attn.hook_z`) && modelW_O) {
        const z = cache.get(`${p}blocks.${l}.attn.hook_z`); // [batch, pos, H, dh]
        const W_O = tf.squeeze(tf.slice(modelW_O, [l, 0, 0, 0], [1, -1, -1, -1]), [0]); // [H, dh, d]
        const [batch, pos, H, dh] = z.shape as [number, number, number, number];
        const zByHead = tf.reshape(tf.transpose(z, [2, 0, 1, 3]), [H, batch * pos, dh]);
        result = tf.transpose(tf.reshape(tf.matMul(zByHead, W_O), [H, batch, pos, -1]), [1, 2, 0, 3]);
      } else {
        throw new InvalidArgumentError(`stackHeadResults: the cache has neither '${p}blocks.${l}.attn.hook_result' nor '${p}blocks.${l}.attn.hook_z'`, 'cache hook_result (or hook_z) of every earlier layer');
      }
      const H = result.shape[2]!;
      for (let h = 0; h < H; h++) labels.push(`L${l}H${h}`);
      perLayer.push(tf.transpose(result, [2, 0, 1, 3]));
    }
    let all = tf.concat(perLayer, 0);
    if (opts.posSlice) all = sliceStackPositions(all, opts.posSlice);
    if (opts.applyLn) all = applyLnToStack(all, cache, model, { layer, posSlice: opts.posSlice });
    return all;
  });
  return { stack, labels };
}
