/**
 * Weight-based circuit analyses (docs/methods.md §12): the K-composition full circuit of a
 * previous-token head P and an induction head I, `M = (W_E W_Q^I)(W_E W_V^P W_O^P W_K^I)ᵀ ∈ R^{V×V}`, and
 * the OV copying circuit `W_E W_V W_O W_U`, scored by top-1 accuracy (fraction of rows i whose argmax is
 * i) over row blocks, so the `V × V` matrix never exists; plus composition scores
 * `‖W_A W_B‖_F / (‖W_A‖_F ‖W_B‖_F)` (Q-, K-, V-composition).
 *
 * No biases, positional embeddings or layer-norm scales enter these circuits. They depend on weight
 * processing: TransformerLens numbers (e.g. the blog's 0.2283) use `processWeights` defaults.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { FactoredMatrix } from './factored-matrix.js';
import type { HostArray } from '../math/host-array.js';

/** The weights the circuit analyses read (HookedGPT2 has them all). */
export interface CircuitModel {
  readonly nLayers: number;
  /** `[dVocab, dModel]`. */
  readonly W_E: tf.Tensor;
  /** `[dModel, dVocab]`. */
  readonly W_U: tf.Tensor;
  /** `[L, H, dModel, dHead]`. */
  readonly W_Q: tf.Tensor;
  readonly W_K: tf.Tensor;
  readonly W_V: tf.Tensor;
  /** `[L, H, dHead, dModel]`. */
  readonly W_O: tf.Tensor;
}

/** A head `(layer, head)`. */
export interface HeadRef {
  layer: number;
  head: number;
}

/** `W[layer, head]` of a stacked `[L, H, a, b]` weight → `[a, b]` (new). */
function headSlice(W: tf.Tensor, { layer, head }: HeadRef, what: string): tf.Tensor {
  const [L, H] = W.shape as [number, number];
  if (!Number.isInteger(layer) || layer < 0 || layer >= L) throw new InvalidArgumentError(`${what}: layer ${layer} is outside 0..${L - 1}`);
  if (!Number.isInteger(head) || head < 0 || head >= H) throw new InvalidArgumentError(`${what}: head ${head} is outside 0..${H - 1}`);
  return tf.tidy(() => tf.reshape(tf.slice(W, [layer, head, 0, 0], [1, 1, -1, -1]), W.shape.slice(2)));
}

/**
 * Reads the named weights outside any tidy: models build some of them lazily (HookedGPT2's stacked
 * W_Q … and W_U) and own them, so they must not be created inside a `tf.tidy` of ours.
 */
function weights<K extends 'W_E' | 'W_U' | 'W_Q' | 'W_K' | 'W_V' | 'W_O'>(model: CircuitModel, ...names: K[]): Record<K, tf.Tensor> {
  const out = {} as Record<K, tf.Tensor>;
  for (const n of names) out[n] = model[n];
  return out;
}

/** OV circuit of a head, `W_V[l,h] · W_O[l,h]` `[dModel, dModel]`, factored (caller disposes). */
export function headOV(model: CircuitModel, layer: number, head: number): FactoredMatrix {
  const w = weights(model, 'W_V', 'W_O');
  return FactoredMatrix.adopt(headSlice(w.W_V, { layer, head }, 'headOV'), headSlice(w.W_O, { layer, head }, 'headOV'));
}

/** QK circuit of a head, `W_Q[l,h] · W_K[l,h]ᵀ` `[dModel, dModel]` (query side left), factored. */
export function headQK(model: CircuitModel, layer: number, head: number): FactoredMatrix {
  const w = weights(model, 'W_Q', 'W_K');
  const K = headSlice(w.W_K, { layer, head }, 'headQK');
  const Kt = tf.transpose(K);
  K.dispose();
  return FactoredMatrix.adopt(headSlice(w.W_Q, { layer, head }, 'headQK'), Kt);
}

/**
 * Top-1 accuracy of a square circuit: the fraction of rows i with `argmax_j M[i, j] == i` (argmax ties →
 * lower j), computed `rowBlock` rows at a time from the factors.
 * @param circuit a square `[V, V]` factored matrix (no leading axes).
 */
export async function circuitTop1Accuracy(circuit: FactoredMatrix, opts: { rowBlock?: number } = {}): Promise<number> {
  if (circuit.leadShape.length) throw new ShapeMismatchError('circuit', '[V, V] without leading axes', circuit.shape);
  const V = circuit.ldim;
  if (circuit.rdim !== V) throw new ShapeMismatchError('circuit', '[V, V] (square)', circuit.shape);
  const block = opts.rowBlock ?? 1000;
  if (!Number.isInteger(block) || block < 1) throw new InvalidArgumentError(`rowBlock ${block} must be a positive integer`);
  let correct = 0;
  for (let start = 0; start < V; start += block) {
    const size = Math.min(block, V - start);
    const hits = tf.tidy(() => {
      const rows = tf.matMul(tf.slice(circuit.A, [start, 0], [size, -1]), circuit.B); // [size, V]
      const best = tf.argMax(rows, 1);
      return tf.sum(tf.cast(tf.equal(best, tf.range(start, start + size, 1, 'int32')), 'int32'));
    });
    correct += (await hits.data())[0]!;
    hits.dispose();
  }
  return correct / V;
}

/** Options of `kCompositionFullCircuitAccuracy`. */
export interface KCompositionOptions {
  /** Previous-token head P. */
  prevLayer: number;
  prevHead: number;
  /** Induction head I (a later layer). */
  indLayer: number;
  indHead: number;
  /** Rows per block (default 1000). */
  rowBlock?: number;
}

/**
 * The K-composition full circuit `FactoredMatrix(W_E·W_Q^I, (W_E·W_V^P·W_O^P·W_K^I)ᵀ)` `[V, V]` (caller disposes).
 */
export function kCompositionFullCircuit(model: CircuitModel, opts: Omit<KCompositionOptions, 'rowBlock'>): FactoredMatrix {
  const w = weights(model, 'W_E', 'W_Q', 'W_K', 'W_V', 'W_O');
  const P = { layer: opts.prevLayer, head: opts.prevHead };
  const I = { layer: opts.indLayer, head: opts.indHead };
  if (I.layer <= P.layer) throw new InvalidArgumentError(`K-composition needs the induction head's layer (${I.layer}) after the previous-token head's (${P.layer})`);
  const [left, rightT] = tf.tidy(() => {
    const WQ = headSlice(w.W_Q, I, 'K-composition');
    const WK = headSlice(w.W_K, I, 'K-composition');
    const WV = headSlice(w.W_V, P, 'K-composition');
    const WO = headSlice(w.W_O, P, 'K-composition');
    const queryDirs = tf.matMul(w.W_E, WQ); // [V, dh]
    const keyDirs = tf.matMul(tf.matMul(tf.matMul(w.W_E, WV), WO), WK); // [V, dh]
    return [queryDirs, tf.transpose(keyDirs)];
  });
  return FactoredMatrix.adopt(left!, rightT!);
}

/**
 * K-composition full-circuit top-1 accuracy (docs/methods.md §12): the fraction of tokens i for which the
 * induction head's key circuit through the previous-token head ranks token i first,
 * `(1/V) Σ_i 1[argmax_j M_ij == i]`, over row blocks.
 */
export async function kCompositionFullCircuitAccuracy(model: CircuitModel, opts: KCompositionOptions): Promise<number> {
  const circuit = kCompositionFullCircuit(model, opts);
  try {
    return await circuitTop1Accuracy(circuit, { rowBlock: opts.rowBlock });
  } finally {
    circuit.dispose();
  }
}

/** The OV copying circuit `FactoredMatrix(W_E·W_V, W_O·W_U)` `[V, V]` of one head (caller disposes). */
export function ovCopyingCircuit(model: CircuitModel, layer: number, head: number): FactoredMatrix {
  const w = weights(model, 'W_E', 'W_U', 'W_V', 'W_O');
  const [left, right] = tf.tidy(() => [tf.matMul(w.W_E, headSlice(w.W_V, { layer, head }, 'OV circuit')), tf.matMul(headSlice(w.W_O, { layer, head }, 'OV circuit'), w.W_U)]);
  return FactoredMatrix.adopt(left!, right!);
}

/** OV copying score: fraction of tokens whose own logit is the largest in row i of `W_E W_V W_O W_U`. */
export async function ovCopyingAccuracy(model: CircuitModel, layer: number, head: number, opts: { rowBlock?: number } = {}): Promise<number> {
  const circuit = ovCopyingCircuit(model, layer, head);
  try {
    return await circuitTop1Accuracy(circuit, opts);
  } finally {
    circuit.dispose();
  }
}

/** Frobenius norm, read asynchronously (every backend, webgpu in Node included). */
async function frobenius(x: FactoredMatrix | tf.Tensor): Promise<number> {
  const norm = tf.tidy(() => (x instanceof FactoredMatrix ? x.norm() : tf.norm(x)));
  try {
    return (await norm.data())[0]!;
  } finally {
    norm.dispose();
  }
}

/**
 * Composition score `‖W_A W_B‖_F / (‖W_A‖_F ‖W_B‖_F)` of two 2-D matrices (plain or factored), e.g.
 * W_A = OV of the earlier head and W_B = QK (Q-), QKᵀ (K-) or OV (V-composition) of the later one.
 */
export async function compositionScore(WA: FactoredMatrix | tf.Tensor, WB: FactoredMatrix | tf.Tensor): Promise<number> {
  const rank = (x: FactoredMatrix | tf.Tensor) => (x instanceof FactoredMatrix ? x.shape.length : x.rank);
  if (rank(WA) !== 2 || rank(WB) !== 2) throw new InvalidArgumentError('compositionScore takes 2-D matrices (one head pair)', 'use allCompositionScores for every pair');
  let product: FactoredMatrix;
  if (WA instanceof FactoredMatrix) product = WB instanceof FactoredMatrix ? WA.matmul(WB) : (WA.matmul(WB) as FactoredMatrix);
  else if (WB instanceof FactoredMatrix) product = WB.rmatmul(WA) as FactoredMatrix;
  else product = new FactoredMatrix(WA, WB);
  try {
    return (await frobenius(product)) / ((await frobenius(WA)) * (await frobenius(WB)));
  } finally {
    product.dispose();
  }
}

/** Composition scores `[L, H, L, H]` as a host array (`data`), with `values` the same array (older name). */
export interface CompositionScores extends HostArray<Float32Array, [number, number, number, number]> {
  /** The same array as `data`. */
  values: Float32Array;
}

/** Which composition: the later head's query (Q), key (K) or value (V) reads the earlier head's output. */
export type CompositionMode = 'Q' | 'K' | 'V';

/** Composition score of one head pair (`prev` writes, `next` reads through its Q, K or V). */
export async function headCompositionScore(model: CircuitModel, mode: CompositionMode, prev: HeadRef, next: HeadRef): Promise<number> {
  const ov = headOV(model, prev.layer, prev.head);
  let right: FactoredMatrix;
  if (mode === 'V') right = headOV(model, next.layer, next.head);
  else if (mode === 'Q') right = headQK(model, next.layer, next.head);
  else if (mode === 'K') {
    const qk = headQK(model, next.layer, next.head);
    right = qk.T;
    qk.dispose();
  } else throw new InvalidArgumentError(`composition mode '${String(mode)}' is not 'Q', 'K' or 'V'`);
  try {
    return await compositionScore(ov, right);
  } finally {
    ov.dispose();
    right.dispose();
  }
}

/**
 * Composition scores of every head pair (A earlier, B later), computed with small Gram matrices only:
 * for M = W_V^A (W_O^A X^B) Y^B, ‖M‖² = Σ (G_V^A X)⊙(X G_Y^B) with X = W_O^A·W_{Q|K|V}^B `[dh, dh]`.
 * @returns values `[L, H, L, H]` row-major (`[lA, hA, lB, hB]`), 0 where lB ≤ lA.
 */
export async function allCompositionScores(model: CircuitModel, mode: CompositionMode): Promise<CompositionScores> {
  if (!['Q', 'K', 'V'].includes(mode)) throw new InvalidArgumentError(`composition mode '${String(mode)}' is not 'Q', 'K' or 'V'`);
  const w = weights(model, 'W_Q', 'W_K', 'W_V', 'W_O');
  const [L, H, d, dh] = w.W_Q.shape as [number, number, number, number];
  const values = new Float32Array(L * H * L * H);
  const { gramV, normOV, readW, readGram, normRight } = tf.tidy(() => {
    const gV = tf.matMul(w.W_V, w.W_V, true, false); // [L,H,dh,dh]
    const gO = tf.matMul(w.W_O, w.W_O, false, true); // [L,H,dh,dh]
    const gQ = tf.matMul(w.W_Q, w.W_Q, true, false);
    const gK = tf.matMul(w.W_K, w.W_K, true, false);
    const nOV = tf.sqrt(tf.sum(tf.mul(gV, gO), [-2, -1])); // [L,H]
    const nQK = tf.sqrt(tf.sum(tf.mul(gQ, gK), [-2, -1]));
    // Right factor read by head B: X = W_O^A · R^B with R = W_Q (Q), W_K (K), W_V (V); its partner Gram.
    const R = mode === 'Q' ? w.W_Q : mode === 'K' ? w.W_K : w.W_V;
    const G = mode === 'Q' ? gK : mode === 'K' ? gQ : gO;
    return { gramV: gV, normOV: nOV, readW: tf.clone(R), readGram: G, normRight: mode === 'V' ? nOV : nQK };
  }) as unknown as { gramV: tf.Tensor; normOV: tf.Tensor; readW: tf.Tensor; readGram: tf.Tensor; normRight: tf.Tensor };
  try {
    for (let lA = 0; lA < L - 1; lA++) {
      const later = L - lA - 1;
      const scores = tf.tidy(() => {
        const WO_A = tf.reshape(tf.slice(w.W_O, [lA, 0, 0, 0], [1, -1, -1, -1]), [H * dh, d]);
        const R_B = tf.reshape(tf.transpose(tf.slice(readW, [lA + 1, 0, 0, 0], [later, -1, -1, -1]), [2, 0, 1, 3]), [d, later * H * dh]);
        const X = tf.transpose(tf.reshape(tf.matMul(WO_A, R_B), [H, dh, later * H, dh]), [0, 2, 1, 3]); // [H, LH', dh, dh]
        const gA = tf.reshape(tf.slice(gramV, [lA, 0, 0, 0], [1, -1, -1, -1]), [H, 1, dh, dh]);
        const gB = tf.reshape(tf.slice(readGram, [lA + 1, 0, 0, 0], [later, -1, -1, -1]), [1, later * H, dh, dh]);
        const sq = tf.sum(tf.mul(tf.matMul(tf.broadcastTo(gA, [H, later * H, dh, dh]), X), tf.matMul(X, tf.broadcastTo(gB, [H, later * H, dh, dh]))), [-2, -1]); // [H, LH']
        const nA = tf.reshape(tf.slice(normOV, [lA, 0], [1, -1]), [H, 1]);
        const nB = tf.reshape(tf.slice(normRight, [lA + 1, 0], [later, -1]), [1, later * H]);
        return tf.div(tf.sqrt(tf.relu(sq)), tf.mul(nA, nB));
      });
      const host = (await scores.data()) as Float32Array;
      scores.dispose();
      for (let hA = 0; hA < H; hA++) {
        for (let j = 0; j < later * H; j++) {
          const lB = lA + 1 + Math.floor(j / H);
          const hB = j % H;
          values[((lA * H + hA) * L + lB) * H + hB] = host[hA * later * H + j]!;
        }
      }
    }
  } finally {
    tf.dispose([gramV, normOV, readW, readGram, normRight]);
  }
  return { data: values, values, shape: [L, H, L, H] };
}
