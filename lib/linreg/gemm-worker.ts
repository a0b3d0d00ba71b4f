/**
 * Worker thread of `GemmEngine`: instantiates the float64 kernel on the engine's shared memory and runs
 * the block-row ranges it is sent (see `gemm-engine.ts`). Not part of the public API.
 */
import { parentPort } from 'node:worker_threads';
import { instantiateGemmKernel, type GemmKernel } from './gemm-kernel.js';

/** Message that starts the worker: the compiled kernel module and the shared memory. */
export interface GemmWorkerInit {
  type: 'init';
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

/** One block-row range of C += Xᵀ·Y over all panel chunks. Offsets and strides in bytes. */
export interface GemmWorkerRun {
  type: 'run';
  id: number;
  xp: number;
  yp: number;
  xChunkBytes: number;
  yChunkBytes: number;
  chunks: number;
  c: number;
  aBegin: number;
  aEnd: number;
  bBlocks: number;
  nb: number;
  ldc: number;
  sym: number;
  /** Byte offset of an Int32 counter bumped with Atomics when done (memory-ordering fence). */
  fence: number;
}

let kernel: GemmKernel | undefined;
let fenceView: Int32Array | undefined;
let memoryRef: WebAssembly.Memory | undefined;

parentPort?.on('message', (msg: GemmWorkerInit | GemmWorkerRun) => {
  if (msg.type === 'init') {
    memoryRef = msg.memory;
    kernel = instantiateGemmKernel(msg.module, msg.memory);
    return;
  }
  try {
    if (!kernel || !memoryRef) throw new Error('gemm worker used before init');
    for (let chunk = 0; chunk < msg.chunks; chunk++) {
      kernel(msg.xp + chunk * msg.xChunkBytes, msg.yp + chunk * msg.yChunkBytes, msg.c, msg.aBegin, msg.aEnd, msg.bBlocks, msg.nb, msg.ldc, msg.sym);
    }
    if (!fenceView || fenceView.buffer !== memoryRef.buffer) fenceView = new Int32Array(memoryRef.buffer, 0, 16);
    Atomics.add(fenceView, msg.fence / 4, 1);
    parentPort!.postMessage({ id: msg.id });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: (err as Error).message });
  }
});
