/**
 * `HookedTransformerRoot`: a `HookedRoot` with a stack of blocks and TransformerLens weight views
 * (`W_Q [L,H,d,dh]`, `W_O [L,H,dh,d]`, `W_in [L,d,dMlp]`, …) over it. GPT-2, ViT and BERT expose their
 * blocks; Whisper its decoder blocks.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { HookedRoot } from './hooked-root.js';
import type { StackedWeights, StackedWeightName } from './tl-weights.js';

/** A hooked model whose blocks have TransformerLens weight views. Views are owned by the model. */
export abstract class HookedTransformerRoot<Input, Prepared> extends HookedRoot<Input, Prepared> {
  /** The stack the views describe. */
  protected abstract readonly tlStack: StackedWeights;

  /** Stacked TransformerLens weight `name` (owned by the model; do not dispose). */
  weight(name: StackedWeightName): tf.Tensor {
    return this.tlStack.get(name);
  }
  /** `[L, H, dModel, dHead]` */
  get W_Q(): tf.Tensor { return this.tlStack.get('W_Q'); }
  /** `[L, H, dModel, dHead]` */
  get W_K(): tf.Tensor { return this.tlStack.get('W_K'); }
  /** `[L, H, dModel, dHead]` */
  get W_V(): tf.Tensor { return this.tlStack.get('W_V'); }
  /** `[L, H, dHead, dModel]` */
  get W_O(): tf.Tensor { return this.tlStack.get('W_O'); }
  /** `[L, H, dHead]` */
  get b_Q(): tf.Tensor { return this.tlStack.get('b_Q'); }
  /** `[L, H, dHead]` (zeros where the model has no key bias) */
  get b_K(): tf.Tensor { return this.tlStack.get('b_K'); }
  /** `[L, H, dHead]` */
  get b_V(): tf.Tensor { return this.tlStack.get('b_V'); }
  /** `[L, dModel]` */
  get b_O(): tf.Tensor { return this.tlStack.get('b_O'); }
  /** `[L, dModel, dMlp]` */
  get W_in(): tf.Tensor { return this.tlStack.get('W_in'); }
  /** `[L, dMlp, dModel]` */
  get W_out(): tf.Tensor { return this.tlStack.get('W_out'); }
  /** `[L, dMlp]` */
  get b_in(): tf.Tensor { return this.tlStack.get('b_in'); }
  /** `[L, dModel]` */
  get b_out(): tf.Tensor { return this.tlStack.get('b_out'); }
  /** `[L, dModel, dMlp]` (gated MLPs only) */
  get W_gate(): tf.Tensor { return this.tlStack.get('W_gate'); }
}
