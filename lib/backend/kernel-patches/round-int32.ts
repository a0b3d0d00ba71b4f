/**
 * `Round` of an int32 tensor on the tensorflow backend: tfjs-node casts nothing and libtensorflow's Round
 * kernel for int32 returns zeros (tfjs-core's own `round int32` spec fails: [-12345678, 10, 12345678] → [0, 0, 0]),
 * a silently wrong result. Rounding an integer is the identity, so int32 inputs are copied unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Wraps `Round` on `backendName` so int32 inputs pass through `Identity`. */
export function registerRoundInt32(backendName: string): void {
  const original = tf.getKernel('Round', backendName);
  const identity = tf.getKernel('Identity', backendName);
  if (!original || !identity) return;
  tf.unregisterKernel('Round', backendName);
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      return x.dtype === 'int32' ? identity.kernelFunc({ ...args, attrs: {} }) : original.kernelFunc(args);
    },
  });
}
