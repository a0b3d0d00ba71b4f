/**
 * TransformerLens weight processing for GPT-NeoX / Pythia (LayerNorm blocks, rotary positions, parallel or sequential
 * residual): the LayerNorm steps of `process-weights-ln.ts` — fold ln1 → W_Q/W_K/W_V, ln2 → W_in and ln_final →
 * W_U/b_U, centre W_E, W_O, b_O, W_out, b_out and the unembedding, fold the value biases into b_O. There is no W_pos
 * (rotary). In a parallel block ln1 and ln2 both read resid_pre; each is folded into its own readers, so nothing else
 * changes. Rotary embeddings act on q and k after the projection, so folding into W_Q/W_K is exact.
 *
 * Invariants (tested on pythia-tiny and pythia-seq-tiny): log-probabilities unchanged (logits unchanged with
 * `centerUnembed: false`); `hook_q/k`, `hook_rot_q/k`, `hook_attn_scores`, `hook_pattern`, `mlp.hook_pre/post`,
 * every `hook_scale` and `hook_normalized` unchanged; the residual-stream hooks are the originals minus their mean
 * over dModel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookedGPTNeoX } from '../nn/gpt-neox.js';
import { LayerNorm } from '../nn/components/layer-norm.js';
import { Mlp } from '../nn/components/mlp.js';
import type { GptNeoXWeights } from '../io/convert/gpt-neox.js';
import { InvalidArgumentError } from '../errors.js';
import { processLnBlock, processLnHead, processSteps, type ProcessWeightsOptions } from './process-weights-ln.js';

/**
 * Processes a HookedGPTNeoX's weights (see the module comment) and returns a new `HookedGPTNeoX` with an untied
 * unembedding and its bias `b_U` (the caller disposes it; the input model is unchanged).
 */
export function processGptNeoXWeights(model: HookedGPTNeoX, opts: ProcessWeightsOptions = {}): HookedGPTNeoX {
  const steps = processSteps(opts);
  const d = model.cfg.dModel;
  for (const [i, block] of model.blocks.entries()) {
    if (!(block.ln1 instanceof LayerNorm) || !(block.ln2 instanceof LayerNorm) || !(block.mlp instanceof Mlp)) {
      throw new InvalidArgumentError(`processGptNeoXWeights: block ${i} is not a LayerNorm block with a plain MLP`);
    }
  }
  if (!(model.lnFinal instanceof LayerNorm)) throw new InvalidArgumentError('processGptNeoXWeights: the final norm is not a LayerNorm');
  const lnFinal = model.lnFinal;
  // W_U and b_U are built lazily and owned by the model: touch them outside the tidy below.
  const W_U = model.W_U;
  const b_U = model.b_U;
  const weights = tf.tidy(() => {
    const blocks: GptNeoXWeights['blocks'] = model.blocks.map((block) =>
      processLnBlock({ ln1: block.ln1 as LayerNorm, attn: block.attn, ln2: block.ln2 as LayerNorm, mlp: block.mlp as Mlp }, d, steps),
    );
    const head = processLnHead({ W_E: model.W_E, W_U, b_U, lnFinal }, steps);
    const out: GptNeoXWeights = { ...head, blocks };
    return out as unknown as tf.TensorContainer;
  }) as unknown as GptNeoXWeights;
  const processed = new HookedGPTNeoX({ ...model.cfg, tieWordEmbeddings: false }, weights);
  processed.tokenizer = model.tokenizer;
  return processed;
}
