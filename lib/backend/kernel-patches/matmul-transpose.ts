/**
 * Faster transposed matmuls on wasm: tfjs-backend-wasm 4.22's `BatchMatMul` runs 6–25× slower when
 * `transposeA`/`transposeB` is set (measured 0.4–1.8 vs 10 GFLOP/s on 2048×128×4096), and attention
 * scores (q·kᵀ) and every matmul gradient use those flags. This wrapper transposes the operand
 * explicitly (a cheap copy) and calls the original kernel untransposed.
 */
import * as tf from '@tensorflow/tfjs-core';

type Backend = tf.KernelBackend & { disposeData(dataId: object): boolean };

/** Wraps `BatchMatMul` on `backendName` so that transposed operands are materialised first. */
export function registerTransposeFreeMatMul(backendName: string): void {
  const original = tf.getKernel('BatchMatMul', backendName);
  const transpose = tf.getKernel('Transpose', backendName);
  if (!original || !transpose) return;
  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName,
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      const temporaries: tf.TensorInfo[] = [];
      const materialise = (x: tf.TensorInfo): tf.TensorInfo => {
        const perm = x.shape.map((_, i) => i);
        const r = perm.length;
        [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
        const t = transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
        temporaries.push(t);
        return t;
      };
      const a = transposeA ? materialise(inputs.a!) : inputs.a!;
      const b = transposeB ? materialise(inputs.b!) : inputs.b!;
      try {
        return original.kernelFunc({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
      } finally {
        for (const t of temporaries) (backend as Backend).disposeData(t.dataId);
      }
    },
  });
}
