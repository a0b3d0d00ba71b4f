/**
 * `x·W + b` followed by GELU (tanh form) as one libtensorflow kernel on the tensorflow backend: oneDNN's
 * fused matmul (`_MklNativeFusedMatMul`, `fused_ops: [BiasAdd, GeluApproximate]`). The composite form makes
 * nine passes over the `[tokens, dMlp]` activation after the matmul; this one makes none. It needs an x86-64
 * TensorFlow with oneDNN and a binding that passes list(string) attributes (built by `tfjs-lens setup
 * tensorflow`); it is registered only when a probe on a tiny input matches the composite result, so other
 * builds keep the composite ops. The MLP uses it only when nothing reads `hook_pre` and no gradient is taped.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The kernel name (inputs `x [n, dIn]`, `W [dIn, dOut]`, `b [dOut]`; output `[n, dOut]`). */
export const FUSED_LINEAR_GELU = 'TfjsLensFusedLinearGelu';

interface NodeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_BOOL: number; TF_ATTR_INT: number; TF_ATTR_STRING: number; TF_ATTR_FLOAT: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: tf.TensorInfo[]): tf.TensorInfo;
}

function fusedMatMulGelu(backend: NodeBackend, x: tf.TensorInfo, W: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const B = backend.binding;
  return backend.executeSingleOutput('_MklNativeFusedMatMul', [
    { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
    { name: 'transpose_a', type: B.TF_ATTR_BOOL, value: false },
    { name: 'transpose_b', type: B.TF_ATTR_BOOL, value: false },
    { name: 'num_args', type: B.TF_ATTR_INT, value: 1 },
    { name: 'fused_ops', type: B.TF_ATTR_STRING, value: ['BiasAdd', 'GeluApproximate'] },
    { name: 'epsilon', type: B.TF_ATTR_FLOAT, value: 0.0001 },
    { name: 'leakyrelu_alpha', type: B.TF_ATTR_FLOAT, value: 0.2 },
    { name: '_kernel', type: B.TF_ATTR_STRING, value: 'MklNameChangeOp' },
  ], [x, W, b]);
}

/** GELU (tanh form) of `x·W + b`, composed from tfjs ops (the reference of the probe). */
function composite(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    const y = tf.add(tf.matMul(x, W), b);
    const inner = tf.mul(tf.add(y, tf.mul(tf.mul(y, tf.mul(y, y)), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(y, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

/** Registers the fused kernel on `backendName` when libtensorflow runs it correctly; returns whether it did. */
export function registerFusedLinearGelu(backendName = 'tensorflow'): boolean {
  if (tf.getKernel(FUSED_LINEAR_GELU, backendName)) return true;
  tf.registerKernel({
    kernelName: FUSED_LINEAR_GELU,
    backendName,
    kernelFunc: ({ inputs, backend }) => fusedMatMulGelu(backend as unknown as NodeBackend, inputs.x!, inputs.W!, inputs.b!),
  });
  try {
    const ok = tf.tidy(() => {
      const x = tf.tensor2d([0.3, -1.2, 2.0, 0.5, -0.7, 1.1], [2, 3]);
      const W = tf.tensor2d([0.5, -0.25, 1.5, 0.75, -1.0, 0.2], [3, 2]);
      const b = tf.tensor1d([0.1, -0.2]);
      const fused = tf.engine().runKernel(FUSED_LINEAR_GELU, { x, W, b }, {}) as tf.Tensor;
      const diff = tf.max(tf.abs(tf.sub(fused, composite(x, W, b)))).dataSync()[0]!;
      return diff < 1e-5;
    });
    if (ok) return true;
  } catch {
    /* not an oneDNN build, or a binding without list(string) attributes */
  }
  tf.unregisterKernel(FUSED_LINEAR_GELU, backendName);
  return false;
}

/**
 * Whether the active backend has the fused kernel, no gradient is being taped (the kernel has none) and fusion
 * is not switched off (`TFJS_LENS_FUSION=0`: runs that read `hook_pre` and runs that do not then use the same
 * kernels, bit for bit; with fusion they agree to float rounding, ~1e-7 relative).
 */
export function fusedLinearGeluAvailable(): boolean {
  return process.env.TFJS_LENS_FUSION !== '0' && !tf.engine().isTapeOn() && tf.getKernel(FUSED_LINEAR_GELU, tf.getBackend()) !== undefined;
}
