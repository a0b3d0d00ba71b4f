/**
 * TransformerLens weight processing (`from_pretrained` defaults, docs/methods.md §11e) for HookedGPT2:
 * fold the layer norms into the matrices that read them, centre everything that writes to the residual
 * stream, centre the unembedding, and fold the value biases into the output bias. Returns a **new**
 * model (`ProcessedGPT2`, a HookedGPT2 with an unembedding bias); the original is untouched.
 *
 * Invariants (checked by the tests): log-probabilities are unchanged (logits move by one constant per
 * position); `hook_q`, `hook_k`, `hook_attn_scores`, `hook_pattern`, `mlp.hook_pre/post` and every
 * `hook_scale` are unchanged; the residual-stream hooks lose their mean over dModel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedGPT2 } from '../nn/gpt2.js';
import type { GPT2Config } from '../io/config/gpt2.js';
import type { GPT2Weights, LnWeights } from '../io/convert/gpt2.js';
import type { Attention } from '../nn/components/attention.js';
import type { Mlp } from '../nn/components/mlp.js';

/** Which processing steps to apply (all default true, as TransformerLens `from_pretrained`). */
export interface ProcessWeightsOptions {
  /** Fold ln1 → W_Q/W_K/W_V, ln2 → W_in, ln_final → W_U/b_U (gain into rows, bias into the bias) and centre the folded matrices over dModel; the layer norms become parameter-free. */
  foldLn?: boolean;
  /** Subtract the dModel-mean from W_E, W_pos, W_O, b_O, W_out, b_out. */
  centerWritingWeights?: boolean;
  /** Subtract the vocabulary mean from every row of W_U, and the mean of b_U. */
  centerUnembed?: boolean;
  /** `b_O += Σ_h b_V[h]·W_O[h]`, `b_V = 0`. */
  foldValueBiases?: boolean;
}

/** A HookedGPT2 whose unembedding has a bias `b_U` (nonzero after folding ln_final's bias). */
export class ProcessedGPT2 extends HookedGPT2 {
  /** Takes ownership of `weights` and `unembedBias [dVocab]`. */
  constructor(cfg: GPT2Config, weights: GPT2Weights, unembedBias: tf.Tensor1D) {
    super(cfg, { ...weights, unembedBias });
  }
}

/** Subtracts the mean over `axis` (kept). */
function centre(t: tf.Tensor, axis: number): tf.Tensor {
  return tf.sub(t, tf.mean(t, axis, true));
}

/** Folds a layer norm (gain w, bias b) into an input-major reader `W [d, out]` with bias `c [out]`. */
function foldInto(ln: { w: tf.Tensor; b: tf.Tensor }, W: tf.Tensor, c: tf.Tensor | undefined, centreRows: boolean): { W: tf.Tensor; c: tf.Tensor } {
  const folded = tf.mul(W, tf.expandDims(ln.w, 1));
  const bias = tf.add(c ?? tf.zeros([W.shape[1]!]), tf.squeeze(tf.matMul(tf.expandDims(ln.b, 0), W), [0]));
  return { W: centreRows ? centre(folded, 0) : folded, c: bias };
}

function identityLn(d: number): LnWeights {
  return { w: tf.ones([d]) as tf.Tensor1D, b: tf.zeros([d]) as tf.Tensor1D };
}

/**
 * Processes a HookedGPT2's weights like TransformerLens `from_pretrained` (all steps on by default) and
 * returns a new `ProcessedGPT2` (the caller disposes it; the input model is unchanged).
 */
export function processWeights(model: HookedGPT2, opts: ProcessWeightsOptions = {}): ProcessedGPT2 {
  const foldLn = opts.foldLn ?? true;
  const centerWriting = opts.centerWritingWeights ?? true;
  const centerUnembed = opts.centerUnembed ?? true;
  const foldValueBiases = opts.foldValueBiases ?? true;
  const d = model.cfg.dModel;
  // W_U and b_U are built lazily by the model and owned by it: touch them outside the tidy below.
  const modelW_U = model.W_U;
  const modelB_U = model.b_U;
  const { weights, unembedBias } = tf.tidy(() => {
    const blocks: GPT2Weights['blocks'] = model.blocks.map((block) => {
      const attn: Attention = block.attn;
      const mlp: Mlp = block.mlp;
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
      let ln1: LnWeights = { w: block.ln1.w, b: block.ln1.b };
      let ln2: LnWeights = { w: block.ln2.w, b: block.ln2.b };
      if (foldLn) {
        ({ W: W_Q, c: b_Q } = foldInto(ln1, W_Q, b_Q, true));
        ({ W: W_K, c: b_K } = foldInto(ln1, W_K, b_K, true));
        ({ W: W_V, c: b_V } = foldInto(ln1, W_V, b_V, true));
        ({ W: W_in, c: b_in } = foldInto(ln2, W_in, b_in, true));
        ln1 = identityLn(d);
        ln2 = identityLn(d);
      }
      if (centerWriting) {
        W_O = centre(W_O, 1);
        b_O = centre(b_O, 0);
        W_out = centre(W_out, 1);
        b_out = centre(b_out, 0);
      }
      if (foldValueBiases) {
        b_O = tf.add(b_O, tf.squeeze(tf.matMul(tf.expandDims(b_V, 0), W_O), [0]));
        b_V = tf.zerosLike(b_V);
      }
      // Fresh tensors owned by the new model.
      const m2 = (t: tf.Tensor) => tf.clone(t) as tf.Tensor2D;
      const v1 = (t: tf.Tensor) => tf.clone(t) as tf.Tensor1D;
      return {
        ln1: { w: v1(ln1.w), b: v1(ln1.b) },
        attn: {
          W_Q: m2(W_Q), W_K: m2(W_K), W_V: m2(W_V), W_O: m2(W_O),
          b_Q: v1(b_Q), b_K: v1(b_K), b_V: v1(b_V), b_O: v1(b_O),
        },
        ln2: { w: v1(ln2.w), b: v1(ln2.b) },
        mlp: { W_in: m2(W_in), b_in: v1(b_in), W_out: m2(W_out), b_out: v1(b_out) },
      };
    });
    let W_E: tf.Tensor = model.W_E;
    let W_pos: tf.Tensor = model.W_pos;
    let W_U: tf.Tensor = modelW_U; // [d, V]
    let b_U: tf.Tensor = modelB_U;
    let lnFinal: LnWeights = { w: model.lnFinal.w, b: model.lnFinal.b };
    if (foldLn) {
      ({ W: W_U, c: b_U } = foldInto(lnFinal, W_U, b_U, true));
      lnFinal = identityLn(d);
    }
    if (centerWriting) {
      W_E = centre(W_E, 1);
      W_pos = centre(W_pos, 1);
    }
    if (centerUnembed) {
      W_U = centre(W_U, 1);
      b_U = centre(b_U, 0);
    }
    const weights: GPT2Weights = {
      W_E: tf.clone(W_E) as tf.Tensor2D,
      W_pos: tf.clone(W_pos) as tf.Tensor2D,
      lnFinal: { w: tf.clone(lnFinal.w) as tf.Tensor1D, b: tf.clone(lnFinal.b) as tf.Tensor1D },
      unembed: tf.transpose(W_U) as tf.Tensor2D,
      blocks,
    };
    return { weights: weights as unknown as tf.TensorContainer, unembedBias: tf.clone(b_U) };
  }) as unknown as { weights: GPT2Weights; unembedBias: tf.Tensor1D };
  const processed = new ProcessedGPT2(model.cfg, weights, unembedBias);
  processed.tokenizer = model.tokenizer;
  return processed;
}
