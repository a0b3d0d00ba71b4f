/**
 * TransformerLens weight processing for RMS-norm models (the Llama family), what is exact there: fold each RMS
 * norm's gain into the matrices that read it (ln1 → W_Q/W_K/W_V, ln2 → W_gate/W_in, ln_final → W_U; the norms
 * keep only x/scale), centre the unembedding, and fold the value biases into the output bias (Qwen2). Returns a
 * **new** `HookedLlama`; the original is untouched.
 *
 * Not done, as TransformerLens does not for RMS models: centring the writing weights (RMS norm divides by
 * √mean(x²), not by the standard deviation, so removing the residual's mean changes every norm's output) and
 * folding norm biases (RMS norms have none). Folding the value biases is exact for rows of the pattern that sum
 * to 1 (every query attends to some key; fully masked padding rows do not).
 *
 * Invariants (tested): log-probabilities unchanged; `hook_q/k/v`, `hook_rot_q/k`, `hook_attn_scores`,
 * `hook_pattern`, `mlp.hook_pre/pre_linear/post`, every `hook_scale` and `hook_normalized` unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedLlama } from '../nn/llama.js';
import { HookedGemma } from '../nn/gemma.js';
import type { LlamaWeights } from '../io/convert/llama.js';
import { GatedMlp } from '../nn/components/gated-mlp.js';
import { InvalidArgumentError } from '../errors.js';

/** Which steps to apply (defaults as TransformerLens `from_pretrained` on an RMS-norm model). */
export interface ProcessLlamaWeightsOptions {
  /** Fold the RMS gains into the readers' rows; the norms' gains become 1. Default true. */
  foldLn?: boolean;
  /** Subtract the vocabulary mean from every row of W_U (and from b_U). Default true. */
  centerUnembed?: boolean;
  /** `b_O += Σ_h b_V[h]·W_O[h]` (b_V expanded per query head), `b_V = 0`. Default true. */
  foldValueBiases?: boolean;
  /** Not exact for RMS norms: only `false` is accepted (as TransformerLens, which skips it for RMS models). */
  centerWritingWeights?: false;
}

/**
 * Why Gemma's weights are not processed: its RMS norms multiply by (1 + w) (zero-centred stored gains), and its
 * sandwich norms (`ln1_post`, `ln2_post`) normalise what attention and the MLP write, so their gains have no reader
 * matrix to fold into and the processed model could not be made parameter-free.
 */
export const GEMMA_PROCESSING_REFUSAL =
  "Gemma is not processed: its RMS norms multiply by (1 + w) and its sandwich norms (ln1_post, ln2_post) normalise what attention and the MLP write, so their gains have no reader to fold into";

/** `diag(w)·W`: a gain `[d]` folded into the rows of an input-major reader `W [d, out]`. */
function foldGain(w: tf.Tensor, W: tf.Tensor): tf.Tensor2D {
  return tf.mul(W, tf.expandDims(w, 1)) as tf.Tensor2D;
}

/**
 * Processes a HookedLlama's weights (see the module comment) and returns a new model (the caller disposes it).
 * Raises InvalidArgumentError for `centerWritingWeights: true` and for Gemma-style (1 + w) gains.
 */
export function processLlamaWeights(model: HookedLlama, opts: ProcessLlamaWeightsOptions = {}): HookedLlama {
  if (!(model instanceof HookedLlama)) {
    const gemma = (model as unknown) instanceof HookedGemma;
    throw new InvalidArgumentError(
      `processLlamaWeights: ${gemma ? GEMMA_PROCESSING_REFUSAL : 'expects a HookedLlama (Llama, Mistral, Qwen2)'}`,
      gemma ? 'run Gemma unprocessed' : 'GPT-2 and GPT-NeoX: processWeights(model)',
    );
  }
  if ((opts.centerWritingWeights as boolean | undefined) === true) {
    throw new InvalidArgumentError('processLlamaWeights: centerWritingWeights is not exact for RMS-norm models', 'TransformerLens skips it for them too; drop the option');
  }
  const foldLn = opts.foldLn ?? true;
  const centerUnembed = opts.centerUnembed ?? true;
  const foldValueBiases = opts.foldValueBiases ?? true;
  const d = model.cfg.dModel;
  // W_U and b_U are built lazily and owned by the model: touch them outside the tidy below.
  const modelW_U = model.W_U;
  const modelB_U = model.b_U;
  const weights = tf.tidy(() => {
    const blocks: LlamaWeights['blocks'] = model.blocks.map((block) => {
      const { attn, mlp } = block;
      if (!(mlp instanceof GatedMlp)) throw new InvalidArgumentError('processLlamaWeights: a Llama block without a gated MLP');
      const g1 = foldLn ? block.ln1.w : undefined;
      const g2 = foldLn ? block.ln2.w : undefined;
      const read = (W: tf.Tensor2D, g: tf.Tensor | undefined) => (g ? foldGain(g, W) : (tf.clone(W) as tf.Tensor2D));
      const copy = (b: tf.Tensor1D | undefined) => b && (tf.clone(b) as tf.Tensor1D);
      let b_V = copy(attn.b_V);
      let b_O = copy(attn.b_O);
      if (foldValueBiases && b_V) {
        // b_V [kv·dh] expanded to one bias per query head (head h reads kv head ⌊h/g⌋), then through W_O.
        const perKv = tf.reshape(b_V, [attn.nKvHeads, 1, attn.dHead]);
        const expanded = tf.reshape(tf.tile(perKv, [1, attn.groupSize, 1]), [1, attn.nHeads * attn.dHead]);
        b_O = tf.add(b_O ?? tf.zeros([d]), tf.squeeze(tf.matMul(expanded, attn.W_O), [0])) as tf.Tensor1D;
        b_V = undefined;
      }
      return {
        ln1: foldLn ? (tf.ones([d]) as tf.Tensor1D) : (tf.clone(block.ln1.w) as tf.Tensor1D),
        attn: { W_Q: read(attn.W_Q, g1), b_Q: copy(attn.b_Q), W_K: read(attn.W_K, g1), b_K: copy(attn.b_K), W_V: read(attn.W_V, g1), b_V, W_O: tf.clone(attn.W_O) as tf.Tensor2D, b_O },
        ln2: foldLn ? (tf.ones([d]) as tf.Tensor1D) : (tf.clone(block.ln2.w) as tf.Tensor1D),
        mlp: { W_gate: read(mlp.W_gate, g2), b_gate: copy(mlp.b_gate), W_in: read(mlp.W_in, g2), b_in: copy(mlp.b_in), W_out: tf.clone(mlp.W_out) as tf.Tensor2D, b_out: copy(mlp.b_out) },
      };
    });
    let W_U: tf.Tensor = foldLn ? foldGain(model.lnFinal.w, modelW_U) : modelW_U; // [d, V]
    let b_U: tf.Tensor = modelB_U;
    if (centerUnembed) {
      W_U = tf.sub(W_U, tf.mean(W_U, 1, true));
      b_U = tf.sub(b_U, tf.mean(b_U));
    }
    const out: LlamaWeights = {
      W_E: tf.clone(model.W_E) as tf.Tensor2D,
      lnFinal: foldLn ? (tf.ones([d]) as tf.Tensor1D) : (tf.clone(model.lnFinal.w) as tf.Tensor1D),
      unembed: tf.transpose(W_U) as tf.Tensor2D,
      unembedBias: tf.clone(b_U) as tf.Tensor1D,
      blocks,
    };
    return out as unknown as tf.TensorContainer;
  }) as unknown as LlamaWeights;
  const processed = new HookedLlama({ ...model.cfg, tieWordEmbeddings: false }, weights);
  processed.tokenizer = model.tokenizer;
  return processed;
}
