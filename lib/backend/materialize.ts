/**
 * Moves a freshly created tensor's values into the backend now. tfjs-node keeps the host array of a new tensor
 * and copies it into libtensorflow on the tensor's first use; for weights that means the whole checkpoint sits
 * twice in memory during the first forward (host arrays + TensorFlow copies) and that forward pays the copy.
 * Copying each weight as it is read keeps one host array alive at a time. Other backends copy on creation
 * already (wasm, webgpu) or keep host arrays by design (cpu): a no-op there.
 */
import * as tf from '@tensorflow/tfjs-core';

interface DeferringBackend {
  /** tfjs-node: creates the libtensorflow handles of pending host values (and drops those values). */
  getInputTensorIds?(tensors: tf.Tensor[]): number[];
}

/** Copies `t`'s values into the active backend if it defers that copy; returns `t`. */
export function materialize<T extends tf.Tensor>(t: T): T {
  if (tf.getBackend() !== 'tensorflow') return t;
  const backend = tf.backend() as unknown as DeferringBackend;
  if (typeof backend.getInputTensorIds === 'function') backend.getInputTensorIds([t]);
  else tf.clone(t).dispose();
  return t;
}
