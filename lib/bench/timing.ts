/**
 * Timing primitives. Every timed call ends with a synchronisation: one element of its output is read
 * back (`await data()` on a 1-element gather), which on asynchronous backends (webgpu, tensorflow, cuda)
 * waits for every queued kernel, and on synchronous ones (cpu, wasm) costs a gather and a 4-byte copy.
 * (A gather, not a slice: tfjs-backend-wasm 4.22's Slice kernel copies its whole input out of the wasm
 * heap first, ~0.1 s for GPT-2 logits `[1, 64, 50257]`.)
 * On GPU backends the device kernel time of synchronous calls is also taken with `tf.time()`.
 */
import * as tf from '@tensorflow/tfjs-core';

/** One timed call: wall-clock milliseconds (with the sync) and, where reported, device kernel milliseconds. */
export interface TimedCall {
  ms: number;
  kernelMs?: number;
}

/** Waits until `t` is computed by reading back one element of it. */
export async function settle(t: tf.Tensor): Promise<void> {
  const probe = tf.tidy(() => tf.gather(tf.reshape(t, [-1]), tf.zeros([1], 'int32')));
  try {
    await probe.data();
  } finally {
    probe.dispose();
  }
}

/**
 * Whether `tf.time()` reports device kernel time worth recording: true on backends that run kernels
 * asynchronously (webgpu, tensorflow, cuda); on cpu and wasm every op already ran when it returns.
 */
export function kernelTimerUseful(backend = tf.getBackend()): boolean {
  return backend !== 'cpu' && backend !== 'wasm';
}

/** Times `fn` (synchronous tensor code; run inside `tf.tidy`) up to the sync of its output. */
export async function timeSync(fn: () => tf.Tensor, useKernelTimer = kernelTimerUseful()): Promise<TimedCall> {
  let out: tf.Tensor | undefined;
  const start = performance.now();
  try {
    let kernelMs: number | undefined;
    if (useKernelTimer) {
      const info = await tf.time(() => {
        out = tf.tidy(fn);
      });
      if (typeof info.kernelMs === 'number') kernelMs = info.kernelMs;
    } else {
      out = tf.tidy(fn);
    }
    await settle(out!);
    return { ms: performance.now() - start, kernelMs };
  } finally {
    out?.dispose();
  }
}

/** Times an asynchronous call returning a tensor (e.g. `model.forward`) up to the sync of that tensor; `release` frees the result. */
export async function timeAsync<T>(fn: () => Promise<T>, output: (result: T) => tf.Tensor, release: (result: T) => void): Promise<number> {
  const start = performance.now();
  const result = await fn();
  try {
    await settle(output(result));
    return performance.now() - start;
  } finally {
    release(result);
  }
}

/** Milliseconds of `settle` alone on an already computed tensor (the floor every timed call pays), `n` times. */
export async function syncOverheadSamples(t: tf.Tensor, n: number): Promise<number[]> {
  await settle(t);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await settle(t);
    samples.push(performance.now() - start);
  }
  return samples;
}

/**
 * Backend memory high-water mark (`tf.memory().numBytes` after each kernel, weights included) while
 * `fn` runs, from `tf.profile`; null when no kernel ran.
 */
export async function peakBytesDuring(fn: () => Promise<void>): Promise<number | null> {
  const info = await tf.profile(async () => {
    await fn();
  });
  return Number.isFinite(info.peakBytes) && info.kernels.length > 0 ? info.peakBytes : null;
}
