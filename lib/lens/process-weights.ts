/**
 * TransformerLens weight processing (`from_pretrained` defaults, docs/methods.md §11e) for HookedGPT2:
 * fold the layer norms into the matrices that read them, centre everything that writes to the residual
 * stream, centre the unembedding, and fold the value biases into the output bias. Returns a **new**
 * model (`ProcessedGPT2`, a HookedGPT2 with an unembedding bias); the original is untouched.
 *
 * GPT-NeoX / Pythia go to `processGptNeoXWeights` (the same steps, no W_pos); the Llama family has its own
 * `processLlamaWeights` (RMS norms: no centring), and Gemma is refused (see `GEMMA_PROCESSING_REFUSAL`).
 *
 * Invariants (checked by the tests): log-probabilities are unchanged (logits move by one constant per
 * position); `hook_q`, `hook_k`, `hook_attn_scores`, `hook_pattern`, `mlp.hook_pre/post` and every
 * `hook_scale` are unchanged; the residual-stream hooks lose their mean over dModel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedGPT2 } from '../nn/gpt2.js';
import { HookedGPTNeoX } from '../nn/gpt-neox.js';
import { HookedGemma } from '../nn/gemma.js';
import { HookedLlama } from '../nn/llama.js';
import type { GPT2Config } from '../io/config/gpt2.js';
import type { GPT2Weights } from '../io/convert/gpt2.js';
import { InvalidArgumentError } from '../errors.js';
import { centre, processLnBlock, processLnHead, processSteps, type ProcessWeightsOptions } from './process-weights-ln.js';
import { processGptNeoXWeights } from './process-weights-neox.js';
import { GEMMA_PROCESSING_REFUSAL } from './process-weights-llama.js';

export type { ProcessWeightsOptions } from './process-weights-ln.js';

/** A HookedGPT2 whose unembedding has a bias `b_U` (nonzero after folding ln_final's bias). */
export class ProcessedGPT2 extends HookedGPT2 {
  /** Takes ownership of `weights` and `unembedBias [dVocab]`. */
  constructor(cfg: GPT2Config, weights: GPT2Weights, unembedBias: tf.Tensor1D) {
    super(cfg, { ...weights, unembedBias });
  }
}

/**
 * Processes a LayerNorm model's weights like TransformerLens `from_pretrained` (all steps on by default) and
 * returns a new model (the caller disposes it; the input model is unchanged): a `ProcessedGPT2` for GPT-2, a
 * `HookedGPTNeoX` with an unembedding bias for GPT-NeoX / Pythia (`processGptNeoXWeights`).
 * @throws InvalidArgumentError for Gemma ((1 + w) RMS gains and sandwich norms) and the Llama family (use
 * `processLlamaWeights`: RMS norms are not invariant to centring).
 */
export function processWeights(model: HookedGPT2, opts?: ProcessWeightsOptions): ProcessedGPT2;
export function processWeights(model: HookedGPTNeoX, opts?: ProcessWeightsOptions): HookedGPTNeoX;
export function processWeights(model: HookedGPT2 | HookedGPTNeoX, opts?: ProcessWeightsOptions): ProcessedGPT2 | HookedGPTNeoX;
export function processWeights(model: HookedGPT2 | HookedGPTNeoX, opts: ProcessWeightsOptions = {}): ProcessedGPT2 | HookedGPTNeoX {
  const other = model as unknown;
  if (other instanceof HookedGemma) throw new InvalidArgumentError(`processWeights: ${GEMMA_PROCESSING_REFUSAL}`, 'run Gemma unprocessed');
  if (other instanceof HookedLlama) {
    throw new InvalidArgumentError('processWeights: Llama-family models have RMS norms, which are not invariant to centring the residual stream', 'use processLlamaWeights(model), which folds the RMS gains and centres only the unembedding');
  }
  if (model instanceof HookedGPTNeoX) return processGptNeoXWeights(model, opts);
  if (!(model instanceof HookedGPT2)) throw new InvalidArgumentError('processWeights: expects a HookedGPT2 or a HookedGPTNeoX');
  const steps = processSteps(opts);
  const d = model.cfg.dModel;
  // W_U and b_U are built lazily by the model and owned by it: touch them outside the tidy below.
  const W_U = model.W_U;
  const b_U = model.b_U;
  const { weights, unembedBias } = tf.tidy(() => {
    const blocks: GPT2Weights['blocks'] = model.blocks.map((block) => processLnBlock(block, d, steps));
    const head = processLnHead({ W_E: model.W_E, W_U, b_U, lnFinal: model.lnFinal }, steps);
    const weights: GPT2Weights = {
      W_E: head.W_E,
      W_pos: (steps.centerWritingWeights ? centre(model.W_pos, 1) : tf.clone(model.W_pos)) as tf.Tensor2D,
      lnFinal: head.lnFinal,
      unembed: head.unembed,
      blocks,
    };
    return { weights: weights as unknown as tf.TensorContainer, unembedBias: head.unembedBias };
  }) as unknown as { weights: GPT2Weights; unembedBias: tf.Tensor1D };
  const processed = new ProcessedGPT2(model.cfg, weights, unembedBias);
  processed.tokenizer = model.tokenizer;
  return processed;
}
