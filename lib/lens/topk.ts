/**
 * Top-k lens rankings per layer without a full-vocabulary sort (docs/methods.md §0): each layer's lens
 * logits are reduced with `tf.topk` right where they are computed (inside a hook on the residual
 * state), so at most one layer's logits `[rows, dVocab]` exist at a time.
 *
 * Ties are broken by the lower token id, on every backend: `tf.topk`'s own tie order is backend
 * dependent (the CPU kernel prefers lower ids, GPU sorting networks need not), so besides the top-k we
 * compute, on device, the k lowest ids whose logit equals the k-th largest value, and assemble the
 * final list on the host: ids with a logit above that value, then the lowest-id ties.
 *
 * Row convention: by default row j = 0 … L−1 means h_{j+1} (beyond_top1: the embedding is excluded);
 * `includeEmbedding: true` gives L+1 rows ℓ = 0 … L meaning h_ℓ (the `mat` convention).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationCache } from '../nn/activation-cache.js';
import { residName, type LensModel } from '../nn/lens-model.js';
import type { HookFn } from '../nn/hook-point.js';
import { InvalidArgumentError } from '../errors.js';
import { checkLayer, lensInput, type HookedLensModel } from './logit-lens.js';

/** Options of `topKPerLayer` and `lensTopK`. */
export interface TopKOptions {
  /** How many ranks (default 5). */
  k?: number;
  /** Positions to rank (default all; CLS models always use position 0). */
  positions?: readonly number[];
  /** Add the embedding h_0 as the first row (L+1 rows, ℓ = 0 … L). Default false (L rows, h_1 … h_L). */
  includeEmbedding?: boolean;
  /** Explicit residual indices ℓ to rank (overrides `includeEmbedding`). */
  layers?: readonly number[];
}

/** Options of `topKPerLayer`. */
export interface TopKPerLayerOptions extends TopKOptions {
  /** Run the input in chunks of this many examples (needs a tensor or array input). Default: all at once. */
  batchSize?: number;
}

/** Top-k lens ranking of every layer, batch item and position. */
export interface TopKResult {
  /** Token ids `[nLayers, batch, nPos, k]` row-major, rank 0 = largest logit, ties → lower id. */
  ids: Int32Array;
  /** Softmax probabilities of those ids (full-vocabulary softmax), same layout. */
  probs: Float32Array;
  /** The lens logits of those ids, same layout. */
  logits: Float32Array;
  /** `[nLayers, batch, nPos, k]`. */
  shape: [number, number, number, number];
  /** Residual index ℓ (h_ℓ) of each row. */
  layers: number[];
}

/**
 * The `[nLayers][k]` rank table of batch row `b`, position `p` of a top-k result (the input of
 * `saturationLayers`): row j holds the ids of layer row j, rank 0 first.
 */
export function rankTable(top: Pick<TopKResult, 'ids' | 'shape'>, b: number, p: number): number[][] {
  const [nLayers, batch, nPos, k] = top.shape;
  if (!Number.isInteger(b) || b < 0 || b >= batch || !Number.isInteger(p) || p < 0 || p >= nPos) throw new InvalidArgumentError(`rankTable: (row ${b}, position ${p}) is outside the result's [${batch}, ${nPos}]`);
  return Array.from({ length: nLayers }, (_, j) => Array.from(top.ids.subarray(((j * batch + b) * nPos + p) * k, ((j * batch + b) * nPos + p + 1) * k)));
}

/** Device-side top-k of one layer (all `[rows, k]`, `lse` `[rows]`). */
type DeviceTopK = {
  values: tf.Tensor;
  indices: tf.Tensor;
  tieIds: tf.Tensor;
  lse: tf.Tensor;
};

/**
 * Device part of the tie-safe top-k of `logits [rows, V]`: the top-k values and ids, the k lowest ids
 * whose logit equals the k-th largest value (as −id, descending), and log-sum-exp per row.
 */
function deviceTopK(logits: tf.Tensor, k: number): DeviceTopK {
  return tf.tidy(() => {
    const vocab = logits.shape[logits.rank - 1]!;
    const flat = tf.reshape(logits, [-1, vocab]);
    const { values, indices } = tf.topk(flat, k, true);
    const kth = tf.slice(values, [0, k - 1], [-1, 1]);
    const negIds = tf.neg(tf.range(0, vocab, 1, 'float32'));
    const tieKey = tf.where(tf.equal(flat, kth), tf.broadcastTo(negIds, flat.shape), tf.fill(flat.shape, -Infinity));
    const tieIds = tf.topk(tieKey, k, true).values;
    const lse = tf.logSumExp(flat, 1);
    return { values, indices, tieIds, lse };
  });
}

/**
 * Host part: combines the device results into ids sorted by (logit desc, id asc), ties at the k-th value
 * resolved to the lowest ids. Writes `rows·k` entries at `out*[offset…]` in row order.
 */
function assembleTopK(k: number, values: Float32Array, indices: Int32Array, tieIds: Float32Array, lse: Float32Array, out: { ids: Int32Array; probs: Float32Array; logits: Float32Array }, rowOffsets: (row: number) => number): void {
  const rows = lse.length;
  const pairs: { v: number; id: number }[] = [];
  for (let r = 0; r < rows; r++) {
    pairs.length = 0;
    const base = r * k;
    const kth = values[base + k - 1]!;
    for (let i = 0; i < k; i++) if (values[base + i]! > kth) pairs.push({ v: values[base + i]!, id: indices[base + i]! });
    pairs.sort((a, b) => b.v - a.v || a.id - b.id);
    const needed = k - pairs.length;
    const ties: number[] = [];
    for (let i = 0; i < k && ties.length < needed; i++) {
      const t = tieIds[base + i]!;
      if (Number.isFinite(t)) ties.push(-t);
    }
    if (ties.length < needed) {
      // The k-th value is NaN (no exact equals): fall back to tf.topk's own order for the remainder.
      for (let i = 0; i < k && ties.length < needed; i++) if (!(values[base + i]! > kth)) ties.push(indices[base + i]!);
    }
    ties.sort((a, b) => a - b);
    for (const id of ties) pairs.push({ v: kth, id });
    const o = rowOffsets(r);
    for (let i = 0; i < k; i++) {
      const p = pairs[i]!;
      out.ids[o + i] = p.id;
      out.logits[o + i] = p.v;
      out.probs[o + i] = Math.exp(p.v - lse[r]!);
    }
  }
}

async function readDeviceTopK(d: DeviceTopK): Promise<{ values: Float32Array; indices: Int32Array; tieIds: Float32Array; lse: Float32Array }> {
  try {
    const [values, indices, tieIds, lse] = await Promise.all([d.values.data(), d.indices.data(), d.tieIds.data(), d.lse.data()]);
    return { values: values as Float32Array, indices: indices as Int32Array, tieIds: tieIds as Float32Array, lse: lse as Float32Array };
  } finally {
    disposeDevice(d);
  }
}

function disposeDevice(d: DeviceTopK): void {
  d.values.dispose();
  d.indices.dispose();
  d.tieIds.dispose();
  d.lse.dispose();
}

/**
 * Tie-safe top-k of a logits tensor `[..., V]` over its last axis: ids sorted by (logit desc, id asc).
 * @returns `{ ids, logits, probs }` each of length `rows·k` (rows = product of the leading axes); probs
 *   are softmax probabilities over the full last axis.
 */
export async function topKTieSafe(logits: tf.Tensor, k: number): Promise<{ ids: Int32Array; logits: Float32Array; probs: Float32Array }> {
  const vocab = logits.shape[logits.rank - 1]!;
  checkK(k, vocab);
  const host = await readDeviceTopK(deviceTopK(logits, k));
  const rows = host.lse.length;
  const out = { ids: new Int32Array(rows * k), probs: new Float32Array(rows * k), logits: new Float32Array(rows * k) };
  assembleTopK(k, host.values, host.indices, host.tieIds, host.lse, out, (r) => r * k);
  return out;
}

function checkK(k: number, vocab: number): void {
  if (!Number.isInteger(k) || k < 1 || k > vocab) throw new InvalidArgumentError(`top-k: k = ${k} must be an integer in 1..${vocab} (the vocabulary/class count)`);
}

function rowLayers(model: LensModel, opts: TopKOptions): number[] {
  const layers = opts.layers ? [...opts.layers] : Array.from({ length: model.nLayers + (opts.includeEmbedding ? 1 : 0) }, (_, i) => (opts.includeEmbedding ? i : i + 1));
  if (!layers.length) throw new InvalidArgumentError('top-k: no layers requested');
  for (const l of layers) checkLayer(model, l);
  return layers;
}

/** Collects per-layer device results into a `TopKResult` for a chunk of the batch. */
async function collect(k: number, perLayer: (DeviceTopK | undefined)[], layers: number[], nPos: number, result: TopKResult): Promise<void> {
  const [, totalBatch] = result.shape;
  for (let j = 0; j < perLayer.length; j++) {
    const d = perLayer[j];
    if (!d) throw new InvalidArgumentError(`top-k: the residual hook of h_${layers[j]} did not run (does the model stop early?)`);
    const host = await readDeviceTopK(d);
    perLayer[j] = undefined;
    assembleTopK(k, host.values, host.indices, host.tieIds, host.lse, result, (r) => {
      const b = Math.floor(r / nPos);
      const p = r % nPos;
      return ((j * totalBatch + b) * nPos + p) * k;
    });
  }
}

function emptyResult(layers: number[], batch: number, nPos: number, k: number): TopKResult {
  const n = layers.length * batch * nPos * k;
  return { ids: new Int32Array(n), probs: new Float32Array(n), logits: new Float32Array(n), shape: [layers.length, batch, nPos, k], layers };
}

/**
 * Top-k lens ranking from a cache holding the residual states (see `residNamesFilter`).
 * @returns ids/probs/logits `[nLayers, batch, nPos, k]`; by default nLayers = L with row j meaning h_{j+1}.
 */
export async function lensTopK(model: LensModel, cache: ActivationCache, opts: TopKOptions = {}): Promise<TopKResult> {
  const k = opts.k ?? 5;
  const layers = rowLayers(model, opts);
  const first = cache.get(residName(model, layers[0]!));
  const batch = first.shape[0]!;
  const nPos = model.lensPositions === 'cls' ? 1 : (opts.positions?.length ?? first.shape[1]!);
  const perLayer = layers.map((l) =>
    tf.tidy(() => {
      const logits = model.lensLogits(lensInput(model, cache.get(residName(model, l)), opts.positions));
      checkK(k, logits.shape[logits.rank - 1]!);
      return deviceTopK(logits, k);
    }),
  );
  const result = emptyResult(layers, batch, nPos, k);
  try {
    await collect(k, perLayer, layers, nPos, result);
  } finally {
    for (const d of perLayer) if (d) disposeDevice(d);
  }
  return result;
}

/**
 * An input given as separate forward passes: `count` chunks, chunk i made on demand by `make(i)` (an image
 * batch decoded and preprocessed, one audio clip with its decoder ids, …). A tensor it returns as `owned` is
 * disposed after that chunk's pass. For inputs that cannot be one batch (decoder sequences of different
 * lengths) or should not be in memory all at once.
 */
export class InputChunks<I> {
  /**
   * @param count number of chunks.
   * @param make chunk i → the model input and the tensor to dispose after its pass.
   */
  constructor(
    readonly count: number,
    readonly make: (i: number) => { chunk: I; owned?: tf.Tensor },
  ) {
    if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError(`InputChunks: count must be an integer ≥ 0, got ${count}`);
  }
}

/**
 * Splits a batchable input (tensor or array of examples) into chunks of `batchSize` along axis 0
 * (`undefined`: one chunk); `InputChunks` yield their own chunks. Tensor chunks are `owned`: the caller
 * disposes them.
 */
export function* batchChunks<I>(input: I | InputChunks<I>, batchSize: number | undefined): Generator<{ chunk: I; owned?: tf.Tensor }> {
  if (input instanceof InputChunks) {
    if (batchSize !== undefined) throw new InvalidArgumentError('batchSize cannot split InputChunks (they are already chunked)', 'choose the chunk size when making the InputChunks');
    for (let i = 0; i < input.count; i++) yield input.make(i);
    return;
  }
  if (batchSize === undefined) {
    yield { chunk: input };
    return;
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError(`batchSize ${batchSize} must be a positive integer`);
  if (input instanceof tf.Tensor) {
    const n = input.shape[0]!;
    for (let s = 0; s < n; s += batchSize) {
      const t = tf.slice(input, [s], [Math.min(batchSize, n - s)]);
      yield { chunk: t as unknown as I, owned: t };
    }
  } else if (Array.isArray(input) && (input.length === 0 || Array.isArray(input[0]) || typeof input[0] === 'string')) {
    for (let s = 0; s < input.length; s += batchSize) yield { chunk: input.slice(s, s + batchSize) as unknown as I };
  } else {
    throw new InvalidArgumentError('batchSize needs a tensor or an array of examples as input', 'pass the input as a [batch, …] tensor or array, or leave batchSize out');
  }
}

/**
 * Runs the model and returns the top-k lens ranking of every layer, computing each layer's lens logits
 * inside a hook on its residual state and reducing them to k entries there (no cache, one layer's
 * logits alive at a time).
 *
 * @param input anything `model.forward` accepts (token ids `[batch, pos]`, pixel values, …), or `InputChunks` of it.
 * @returns ids/probs/logits `[nLayers, batch, nPos, k]`; by default nLayers = L, row j = h_{j+1}.
 */
export async function topKPerLayer<I>(model: HookedLensModel<I>, input: I | InputChunks<I>, opts: TopKPerLayerOptions = {}): Promise<TopKResult> {
  const k = opts.k ?? 5;
  const layers = rowLayers(model, opts);
  const names = layers.map((l) => residName(model, l));
  const parts: { result: TopKResult; batch: number }[] = [];
  for (const { chunk, owned } of batchChunks(input, opts.batchSize)) {
    const perLayer: (DeviceTopK | undefined)[] = layers.map(() => undefined);
    let batch = 0;
    let nPos = 0;
    const hooks = names.map((name, j) => {
      const fn: HookFn = (resid) => {
        batch = resid.shape[0]!;
        nPos = model.lensPositions === 'cls' ? 1 : (opts.positions?.length ?? resid.shape[1]!);
        const d = tf.tidy(() => {
          const logits = model.lensLogits(lensInput(model, resid, opts.positions));
          checkK(k, logits.shape[logits.rank - 1]!);
          return deviceTopK(logits, k);
        });
        for (const t of [d.values, d.indices, d.tieIds, d.lse]) tf.keep(t);
        perLayer[j] = d;
        return undefined;
      };
      return [name, fn] as const;
    });
    try {
      const output = await model.runWithHooks(chunk, { fwdHooks: hooks });
      output.dispose();
      const result = emptyResult(layers, batch, nPos, k);
      await collect(k, perLayer, layers, nPos, result);
      parts.push({ result, batch });
    } finally {
      for (const d of perLayer) if (d) disposeDevice(d);
      owned?.dispose();
    }
  }
  if (parts.length === 1) return parts[0]!.result;
  return mergeBatches(parts.map((p) => p.result));
}

/** Concatenates chunk results along the batch axis. */
function mergeBatches(parts: TopKResult[]): TopKResult {
  const [nLayers, , nPos, k] = parts[0]!.shape;
  const batch = parts.reduce((s, p) => s + p.shape[1], 0);
  const out = emptyResult(parts[0]!.layers, batch, nPos, k);
  const rowLen = nPos * k;
  for (let j = 0; j < nLayers; j++) {
    let b0 = 0;
    for (const p of parts) {
      const pb = p.shape[1];
      const src = j * pb * rowLen;
      const dst = (j * batch + b0) * rowLen;
      out.ids.set(p.ids.subarray(src, src + pb * rowLen), dst);
      out.probs.set(p.probs.subarray(src, src + pb * rowLen), dst);
      out.logits.set(p.logits.subarray(src, src + pb * rowLen), dst);
      b0 += pb;
    }
  }
  return out;
}
