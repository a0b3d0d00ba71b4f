/** Test helpers: fixture paths, relative error, tensor-leak checks. */
import * as tf from '@tensorflow/tfjs-core';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readAllSafetensors, type HostTensor } from '../../lib/io/safetensors.js';

/** Repository root (tests run from dist/test/…). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Path of a fixture folder under test/fixtures/hf/. */
export function fixtureDir(name: string): string {
  return join(ROOT, 'test', 'fixtures', 'hf', name);
}

/** Reads `inputs.safetensors` and `expected.safetensors` of a fixture. */
export async function readFixture(name: string): Promise<{ inputs: Map<string, HostTensor>; expected: Map<string, HostTensor> }> {
  const dir = fixtureDir(name);
  return {
    inputs: await readAllSafetensors(join(dir, 'inputs.safetensors')),
    expected: await readAllSafetensors(join(dir, 'expected.safetensors')),
  };
}

/**
 * Relative error ‖a − b‖ / ‖b‖; entries that are −∞ in both count as equal (masked attention scores);
 * an −∞ in only one of them makes the error infinite.
 */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a === e) continue;
      return Infinity;
    }
    num += (a - e) ** 2;
    den += e ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** Runs `fn` and returns how many tensors it left behind. */
export async function tensorsLeaked(fn: () => Promise<void>): Promise<number> {
  const before = tf.memory().numTensors;
  await fn();
  return tf.memory().numTensors - before;
}

/** A `[B, T]` integer fixture tensor (ids, masks, segment ids) as nested arrays, one per row. */
export function intRows(h: HostTensor): number[][] {
  const [B, T] = h.shape as [number, number];
  return Array.from({ length: B }, (_, b) => Array.from(h.data as Int32Array).slice(b * T, (b + 1) * T));
}

/** Rows `[b, t, …]` of a `[B, T, inner]` array at the real positions (mask 1), concatenated (padded batches). */
export function realRows(data: ArrayLike<number>, mask: number[][], inner: number): Float32Array {
  const out: number[] = [];
  const T = mask[0]!.length;
  mask.forEach((row, b) => row.forEach((m, t) => {
    if (m) for (let i = 0; i < inner; i++) out.push(data[(b * T + t) * inner + i]!);
  }));
  return Float32Array.from(out);
}
