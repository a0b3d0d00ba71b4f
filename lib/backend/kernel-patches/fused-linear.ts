/**
 * `x·W + b`, optionally followed by GELU, as one libtensorflow kernel on the tensorflow backend: oneDNN's fused
 * matmul (`_MklNativeFusedMatMul` with `fused_ops: [BiasAdd]`, `[BiasAdd, GeluApproximate]` for the tanh form of
 * GPT-2, or `[BiasAdd, GeluExact]` for the erf form of ViT, Whisper and BERT). The composite forms write the
 * matmul and the bias sum into two buffers, and GELU makes six to nine more passes over the `[tokens, dOut]`
 * activation, each into a new buffer; this kernel writes one. It needs an x86-64 TensorFlow with oneDNN and a
 * binding that passes list(string) attributes (built by `tfjs-lens setup tensorflow`); it is registered only when
 * a probe on a tiny input matches the composite result of all three forms, so other builds keep the composite
 * ops. Linear layers and MLPs use it only when no gradient is taped (the kernel has none), and an MLP only when
 * nothing reads `hook_pre`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The kernel name (inputs `x [n, dIn]`, `W [dIn, dOut]`, `b [dOut]`; attributes `FusedLinearAttrs`; output `[n, dOut]`). */
export const FUSED_LINEAR = 'TfjsLensFusedLinear';

/** What follows the bias: nothing, GELU's tanh form (`gelu_new`, `gelu_pytorch_tanh`) or its exact erf form (`gelu`). */
export type FusedActivation = 'none' | 'gelu_tanh' | 'gelu_erf';

/** Attributes of `FUSED_LINEAR`. */
export interface FusedLinearAttrs {
  activation: FusedActivation;
}

const FUSED_OPS: Record<FusedActivation, string[]> = {
  none: ['BiasAdd'],
  gelu_tanh: ['BiasAdd', 'GeluApproximate'],
  gelu_erf: ['BiasAdd', 'GeluExact'],
};

interface NodeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_BOOL: number; TF_ATTR_INT: number; TF_ATTR_STRING: number; TF_ATTR_FLOAT: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: tf.TensorInfo[]): tf.TensorInfo;
}

function fusedMatMul(backend: NodeBackend, x: tf.TensorInfo, W: tf.TensorInfo, b: tf.TensorInfo, activation: FusedActivation): tf.TensorInfo {
  const B = backend.binding;
  const fusedOps = FUSED_OPS[activation];
  if (!fusedOps) throw new Error(`${FUSED_LINEAR}: unknown activation '${String(activation)}'`);
  return backend.executeSingleOutput('_MklNativeFusedMatMul', [
    { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT },
    { name: 'transpose_a', type: B.TF_ATTR_BOOL, value: false },
    { name: 'transpose_b', type: B.TF_ATTR_BOOL, value: false },
    { name: 'num_args', type: B.TF_ATTR_INT, value: 1 },
    { name: 'fused_ops', type: B.TF_ATTR_STRING, value: fusedOps },
    { name: 'epsilon', type: B.TF_ATTR_FLOAT, value: 0.0001 },
    { name: 'leakyrelu_alpha', type: B.TF_ATTR_FLOAT, value: 0.2 },
    { name: '_kernel', type: B.TF_ATTR_STRING, value: 'MklNameChangeOp' },
  ], [x, W, b]);
}

/** `activation(x·W + b)` composed from tfjs ops (the reference of the probe). */
function composite(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, activation: FusedActivation): tf.Tensor {
  return tf.tidy(() => {
    const y = tf.add(tf.matMul(x, W), b);
    if (activation === 'none') return y;
    if (activation === 'gelu_erf') return tf.mul(tf.mul(y, 0.5), tf.add(tf.erf(tf.mul(y, Math.SQRT1_2)), 1));
    const inner = tf.mul(tf.add(y, tf.mul(tf.mul(y, tf.mul(y, y)), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(y, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

/** Registers the fused kernel on `backendName` when libtensorflow runs it correctly; returns whether it did. */
export function registerFusedLinear(backendName = 'tensorflow'): boolean {
  if (tf.getKernel(FUSED_LINEAR, backendName)) return true;
  tf.registerKernel({
    kernelName: FUSED_LINEAR,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => fusedMatMul(backend as unknown as NodeBackend, inputs.x!, inputs.W!, inputs.b!, (attrs as unknown as FusedLinearAttrs).activation),
  });
  try {
    const ok = tf.tidy(() => {
      const x = tf.tensor2d([0.3, -1.2, 2.0, 0.5, -0.7, 1.1], [2, 3]);
      const W = tf.tensor2d([0.5, -0.25, 1.5, 0.75, -1.0, 0.2], [3, 2]);
      const b = tf.tensor1d([0.1, -0.2]);
      return (Object.keys(FUSED_OPS) as FusedActivation[]).every((activation) => {
        const fused = runFusedLinear(x, W, b, activation);
        return tf.max(tf.abs(tf.sub(fused, composite(x, W, b, activation)))).dataSync()[0]! < 1e-5;
      });
    });
    if (ok) return true;
  } catch {
    /* not an oneDNN build, or a binding without list(string) attributes */
  }
  tf.unregisterKernel(FUSED_LINEAR, backendName);
  return false;
}

/** `activation(x·W + b)` through the fused kernel: `x [n, dIn]`, `W [dIn, dOut]`, `b [dOut]` → `[n, dOut]`. */
export function runFusedLinear(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, activation: FusedActivation): tf.Tensor2D {
  const attrs: FusedLinearAttrs = { activation };
  return tf.engine().runKernel(FUSED_LINEAR, { x, W, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/**
 * Whether the active backend has the fused kernel, no gradient is being taped (the kernel has none) and fusion
 * is not switched off (`TFJS_LENS_FUSION=0`: runs that read `hook_pre` and runs that do not then use the same
 * kernels, bit for bit; with fusion they agree to float rounding, ~1e-7 relative).
 */
export function fusedLinearAvailable(): boolean {
  return process.env.TFJS_LENS_FUSION !== '0' && !tf.engine().isTapeOn() && tf.getKernel(FUSED_LINEAR, tf.getBackend()) !== undefined;
}
