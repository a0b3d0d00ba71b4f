/**
 * O(n·inner) scatter-add `UnsortedSegmentSum` for the cpu and wasm backends. tfjs-backend-cpu's kernel
 * costs O(numSegments · n · inner) (a masked sum per segment), which makes the embedding gradient of a
 * 4096-token vocabulary take a minute; wasm has no kernel at all. This one is linear.
 */
import * as tf from '@tensorflow/tfjs-core';

type HostBackend = tf.KernelBackend & {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  makeOutput?(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
};

function unsortedSegmentSum({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const host = backend as HostBackend;
  const x = inputs.x!;
  const segmentIds = inputs.segmentIds!;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const values = host.readSync(x.dataId) as Float32Array | Int32Array;
  const ids = host.readSync(segmentIds.dataId) as Int32Array;
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const segment = ids[i]!;
    if (segment < 0 || segment >= numSegments) continue;
    const src = i * inner;
    const dst = segment * inner;
    for (let j = 0; j < inner; j++) out[dst + j]! += values[src + j]!;
  }
  const shape = [numSegments, ...innerShape];
  // cpu has makeTensorInfo(shape, dtype, values); wasm has makeOutput(shape, dtype, offset, values) (cpu's makeOutput differs).
  return host.makeTensorInfo ? host.makeTensorInfo(shape, x.dtype, out) : host.makeOutput!(shape, x.dtype, undefined, out);
}

/** Registers the linear-time kernel on `backendName` (replacing any existing one). */
export function registerUnsortedSegmentSum(backendName: string): void {
  if (tf.getKernel('UnsortedSegmentSum', backendName)) tf.unregisterKernel('UnsortedSegmentSum', backendName);
  tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: unsortedSegmentSum as tf.KernelFunc });
}
