/**
 * Synchronous tensor reads, where the library keeps them: host helpers that take a tensor as a convenience
 * (`toHostArray`, `r2Score`, `saturationLayers`, the linreg/probe matrix inputs, `GramAccumulator.add`),
 * `meanLogProb`/`nextTokenAccuracy` (each has an `…Async` twin) and a hook that replaces `hook_tokens`
 * (the forward pass is synchronous). tfjs-webgpu reads synchronously through a browser `OffscreenCanvas`,
 * which Node lacks: there such a read throws a `ReferenceError`, turned here into a typed error naming the
 * asynchronous way instead. Every model, lens and explorer path reads with `await data()`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors.js';

/**
 * `t.dataSync()`; where the backend cannot read synchronously (tfjs-webgpu in Node, once the values live on
 * the GPU: it throws `ReferenceError: OffscreenCanvas is not defined`) an `InvalidArgumentError` naming
 * `what` and the asynchronous alternative `instead`. Values still on the host (a tensor just made from
 * host data) read fine everywhere.
 */
export function readSync(t: tf.Tensor, what: string, instead = 'read it first with `await tensor.data()` (or toHostArrayAsync) and pass the host values'): tf.TypedArray {
  try {
    return t.dataSync() as tf.TypedArray;
  } catch (err) {
    if (err instanceof ReferenceError && /OffscreenCanvas/.test(err.message)) {
      throw new InvalidArgumentError(`${what}: a tensor on the ${tf.getBackend()} backend cannot be read synchronously in this runtime (${err.message})`, instead);
    }
    throw err;
  }
}
