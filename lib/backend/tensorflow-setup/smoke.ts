/**
 * The setup's smoke test, run in a child process (a binding built against the wrong library can crash the
 * process that loads it): load the tensorflow backend, run a matmul + softmax + GELU and compare with the cpu
 * backend, print one JSON line. `node smoke.js [cpu|gpu]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { pathToFileURL } from 'node:url';
import { setBackend } from '../index.js';
import type { TensorflowDevice } from '../types.js';

/** What the smoke test reports. */
export interface SmokeResult {
  ok: boolean;
  detail: string;
  device: string;
  versions: Record<string, string>;
  /** Largest absolute difference from the cpu backend over the three ops. */
  maxAbsDiff: number;
  error?: string;
}

function compute(): Float32Array {
  return tf.tidy(() => {
    const a = tf.tensor2d(Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i * 0.37)), [64, 48]);
    const b = tf.tensor2d(Array.from({ length: 48 * 32 }, (_, i) => Math.cos(i * 0.11)), [48, 32]);
    const x = tf.matMul(a, b);
    const gelu = tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
    return tf.concat([tf.reshape(tf.softmax(x), [-1]), tf.reshape(gelu, [-1])]).dataSync() as Float32Array;
  });
}

/** Runs the smoke test in this process. */
export async function smokeTest(device?: TensorflowDevice): Promise<SmokeResult> {
  try {
    await setBackend('cpu');
    const ref = compute();
    const active = await setBackend('tensorflow', device ? { device } : {});
    const got = compute();
    let maxAbsDiff = 0;
    for (let i = 0; i < ref.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ref[i]! - got[i]!));
    return { ok: maxAbsDiff < 1e-4, detail: active.detail, device: active.device, versions: active.versions, maxAbsDiff };
  } catch (err) {
    return { ok: false, detail: '', device: '', versions: {}, maxAbsDiff: NaN, error: (err as Error).message };
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const device = process.argv[2] as TensorflowDevice | undefined;
  const result = await smokeTest(device);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.ok ? 0 : 1);
}
