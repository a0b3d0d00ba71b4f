/**
 * The TransformerLens weight-processing steps of LayerNorm models (docs/methods.md §11e), on plain weight records:
 * one block (fold ln1 → W_Q/W_K/W_V and ln2 → W_in, centre the writers W_O/b_O/W_out/b_out, fold the value biases)
 * and the head (fold ln_final → W_U/b_U, centre W_E and the unembedding). GPT-2 (`processWeights`) and GPT-NeoX /
 * Pythia (`processGptNeoXWeights`) build their processed models from these; only what differs (GPT-2's W_pos; NeoX
 * has rotary positions and no W_pos) stays with them.
 *
 * Exactness: LayerNorm subtracts the mean over dModel before anything reads the residual, so centring what writes
 * to it changes no norm's output; the folded readers' rows are centred because the normalized input they read has
 * zero mean. Parallel-residual blocks (Pythia: ln1 and ln2 both read resid_pre) need nothing else: each norm is
 * folded into its own readers.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AttentionWeights, LnWeights, MlpWeights } from '../io/convert/weights.js';

/** Which processing steps to apply (all default true, as TransformerLens `from_pretrained`). */
export interface ProcessWeightsOptions {
  /** Fold ln1 → W_Q/W_K/W_V, ln2 → W_in, ln_final → W_U/b_U (gain into rows, bias into the bias) and centre the folded matrices over dModel; the layer norms become parameter-free. */
  foldLn?: boolean;
  /** Subtract the dModel-mean from W_E, W_pos (GPT-2), W_O, b_O, W_out, b_out. */
  centerWritingWeights?: boolean;
  /** Subtract the vocabulary mean from every row of W_U, and the mean of b_U. */
  centerUnembed?: boolean;
  /** `b_O += Σ_h b_V[h]·W_O[h]`, `b_V = 0`. */
  foldValueBiases?: boolean;
}

/** The options with their defaults filled in. */
export function processSteps(opts: ProcessWeightsOptions): Required<ProcessWeightsOptions> {
  return {
    foldLn: opts.foldLn ?? true,
    centerWritingWeights: opts.centerWritingWeights ?? true,
    centerUnembed: opts.centerUnembed ?? true,
    foldValueBiases: opts.foldValueBiases ?? true,
  };
}

/** What a LayerNorm block exposes (GPT-2's `TransformerBlock`, GPT-NeoX's `RotaryBlock` with LayerNorms and an `Mlp`). */
export interface LnBlockParts {
  ln1: Readonly<LnWeights>;
  attn: Readonly<AttentionWeights>;
  ln2: Readonly<LnWeights>;
  mlp: Readonly<MlpWeights>;
}

/** Processed weights of one block: fresh tensors (call inside `tf.tidy` and keep what is returned). */
export interface LnBlockWeights {
  ln1: LnWeights;
  attn: AttentionWeights;
  ln2: LnWeights;
  mlp: MlpWeights;
}

/** Subtracts the mean over `axis` (kept). */
export function centre(t: tf.Tensor, axis: number): tf.Tensor {
  return tf.sub(t, tf.mean(t, axis, true));
}

/** Folds a layer norm (gain w, bias b) into an input-major reader `W [d, out]` with bias `c [out]`, rows centred over d. */
function foldInto(ln: Readonly<LnWeights>, W: tf.Tensor, c: tf.Tensor | undefined): { W: tf.Tensor; c: tf.Tensor } {
  const folded = tf.mul(W, tf.expandDims(ln.w, 1));
  const bias = tf.add(c ?? tf.zeros([W.shape[1]!]), tf.squeeze(tf.matMul(tf.expandDims(ln.b, 0), W), [0]));
  return { W: centre(folded, 0), c: bias };
}

/** A parameter-free layer norm's weights (gain 1, bias 0) `[d]`. */
function identityLn(d: number): LnWeights {
  return { w: tf.ones([d]) as tf.Tensor1D, b: tf.zeros([d]) as tf.Tensor1D };
}

const m2 = (t: tf.Tensor): tf.Tensor2D => tf.clone(t) as tf.Tensor2D;
const v1 = (t: tf.Tensor): tf.Tensor1D => tf.clone(t) as tf.Tensor1D;

/**
 * One LayerNorm block processed (see the module comment): every returned tensor is new. Missing attention biases
 * become zeros `[out]` / `[dModel]`. Run inside `tf.tidy`.
 */
export function processLnBlock(block: LnBlockParts, d: number, steps: Required<ProcessWeightsOptions>): LnBlockWeights {
  const { attn, mlp } = block;
  let W_Q: tf.Tensor = attn.W_Q;
  let W_K: tf.Tensor = attn.W_K;
  let W_V: tf.Tensor = attn.W_V;
  let b_Q: tf.Tensor = attn.b_Q ?? tf.zeros([W_Q.shape[1]!]);
  let b_K: tf.Tensor = attn.b_K ?? tf.zeros([W_K.shape[1]!]);
  let b_V: tf.Tensor = attn.b_V ?? tf.zeros([W_V.shape[1]!]);
  let W_O: tf.Tensor = attn.W_O;
  let b_O: tf.Tensor = attn.b_O ?? tf.zeros([d]);
  let W_in: tf.Tensor = mlp.W_in;
  let b_in: tf.Tensor = mlp.b_in;
  let W_out: tf.Tensor = mlp.W_out;
  let b_out: tf.Tensor = mlp.b_out;
  let ln1: Readonly<LnWeights> = block.ln1;
  let ln2: Readonly<LnWeights> = block.ln2;
  if (steps.foldLn) {
    ({ W: W_Q, c: b_Q } = foldInto(ln1, W_Q, b_Q));
    ({ W: W_K, c: b_K } = foldInto(ln1, W_K, b_K));
    ({ W: W_V, c: b_V } = foldInto(ln1, W_V, b_V));
    ({ W: W_in, c: b_in } = foldInto(ln2, W_in, b_in));
    ln1 = identityLn(d);
    ln2 = identityLn(d);
  }
  if (steps.centerWritingWeights) {
    W_O = centre(W_O, 1);
    b_O = centre(b_O, 0);
    W_out = centre(W_out, 1);
    b_out = centre(b_out, 0);
  }
  if (steps.foldValueBiases) {
    b_O = tf.add(b_O, tf.squeeze(tf.matMul(tf.expandDims(b_V, 0), W_O), [0]));
    b_V = tf.zerosLike(b_V);
  }
  return {
    ln1: { w: v1(ln1.w), b: v1(ln1.b) },
    attn: { W_Q: m2(W_Q), W_K: m2(W_K), W_V: m2(W_V), W_O: m2(W_O), b_Q: v1(b_Q), b_K: v1(b_K), b_V: v1(b_V), b_O: v1(b_O) },
    ln2: { w: v1(ln2.w), b: v1(ln2.b) },
    mlp: { W_in: m2(W_in), b_in: v1(b_in), W_out: m2(W_out), b_out: v1(b_out) },
  };
}

/** What the head processing reads: `W_E [dVocab, d]`, `W_U [d, dVocab]`, `b_U [dVocab]`, the final LayerNorm. */
export interface LnHeadParts {
  W_E: tf.Tensor2D;
  W_U: tf.Tensor2D;
  b_U: tf.Tensor1D;
  lnFinal: Readonly<LnWeights>;
}

/** Processed head: fresh `W_E`, `lnFinal`, the unembedding vocab-major `unembed [dVocab, d]` and its bias `[dVocab]`. */
export interface LnHeadWeights {
  W_E: tf.Tensor2D;
  lnFinal: LnWeights;
  unembed: tf.Tensor2D;
  unembedBias: tf.Tensor1D;
}

/** Folds ln_final into W_U/b_U, centres W_E over d and the unembedding over the vocabulary. Run inside `tf.tidy`. */
export function processLnHead(head: LnHeadParts, steps: Required<ProcessWeightsOptions>): LnHeadWeights {
  const d = head.W_E.shape[1];
  let W_E: tf.Tensor = head.W_E;
  let W_U: tf.Tensor = head.W_U;
  let b_U: tf.Tensor = head.b_U;
  let lnFinal: Readonly<LnWeights> = head.lnFinal;
  if (steps.foldLn) {
    ({ W: W_U, c: b_U } = foldInto(lnFinal, W_U, b_U));
    lnFinal = identityLn(d);
  }
  if (steps.centerWritingWeights) W_E = centre(W_E, 1);
  if (steps.centerUnembed) {
    W_U = centre(W_U, 1);
    b_U = centre(b_U, 0);
  }
  return { W_E: m2(W_E), lnFinal: { w: v1(lnFinal.w), b: v1(lnFinal.b) }, unembed: tf.transpose(W_U) as tf.Tensor2D, unembedBias: v1(b_U) };
}
