/**
 * One registration list per target backend: the kernels tfjs-lens replaces or adds on it, and why.
 * - cpu: `UnsortedSegmentSum` in linear time (the embedding gradient; the stock kernel is O(segments·n)).
 * - wasm: the same, transpose-free `BatchMatMul` (transposed operands run 6–25× slower), and CPU bridges for
 *   every kernel wasm lacks.
 * - tensorflow: the calls tfjs-node rejects or gets wrong (numeric pool pads, NCHW fused conv, ScatterNd, Round of
 *   int32 — libtensorflow returns zeros —, a few dtypes: tensorflow-cases.ts) and CPU bridges for the kernels tfjs-node
 *   lacks (ragged, sparse, string, SearchSorted, DenseBincount, …; none is on a model, lens or training path);
 *   and a fused linear + GELU kernel (oneDNN) that the MLP uses when nothing reads `hook_pre`.
 */
import { registerUnsortedSegmentSum } from './unsorted-segment-sum.js';
import { registerTransposeFreeMatMul } from './matmul-transpose.js';
import { installCpuFallbacks } from './cpu-bridge.js';
import { registerTensorflowCpuCases } from './tensorflow-cases.js';
import { registerFusedLinear } from './fused-linear.js';

const done = new Set<string>();

/** Registers tfjs-lens's kernel patches for `backendName` once (after the backend's own kernels are registered). */
export function registerKernelPatches(backendName: 'cpu' | 'wasm' | 'tensorflow'): void {
  if (done.has(backendName)) return;
  done.add(backendName);
  switch (backendName) {
    case 'cpu':
      registerUnsortedSegmentSum('cpu');
      break;
    case 'wasm':
      registerUnsortedSegmentSum('wasm');
      registerTransposeFreeMatMul('wasm');
      installCpuFallbacks('wasm');
      break;
    case 'tensorflow':
      registerTensorflowCpuCases('tensorflow');
      installCpuFallbacks('tensorflow');
      registerFusedLinear('tensorflow');
      break;
  }
}
