/**
 * One reusable host buffer for the values of new tensors (checkpoint weights), where the active backend copies
 * them on creation.
 *
 * Loading a checkpoint used to allocate one typed array per weight. Each was written into memory the process
 * touched for the first time, libtensorflow then copied it again (TF_NewTensor keeps a typed array only when its
 * address is 64-byte aligned; V8's large buffers are 16-byte aligned), and every allocation counted against
 * V8's external memory, which starts a full garbage collection about every 64 MiB: on GPT-2 XL (6.2 GB) the
 * collector alone took seconds. Reading every weight into the same buffer and letting the backend copy it
 * leaves one write into fresh memory per weight (the backend's copy) and no garbage.
 *
 * Reuse is only safe where the backend copies the values when the tensor is made: wasm always does;
 * tfjs-node (`tensorflow`) does at an address libtensorflow does not adopt; cpu keeps the array, and webgpu
 * keeps it until the upload. So each new buffer is checked: a 16-float probe tensor is made from a view at an
 * offset, the view is then written, and the tensor must still read the old value (its own copy). The buffer
 * is used at the first offset that passes; when none does, every call returns a fresh array instead.
 */
import * as tf from '@tensorflow/tfjs-core';
import { materialize } from './materialize.js';

/** Returns `byteLength` bytes to fill with a tensor's values (the previous contents are unspecified). */
export type HostAllocator = (byteLength: number) => Uint8Array;

/** Smaller arrays are allocated fresh (cheap, and below the size where the reuse pays). */
export const STAGING_MIN_BYTES = 64 * 1024;
/** Spare bytes at the start of a buffer, to find an offset the backend copies from. */
const SPARE = 64;

/** True when a tensor made from `buffer` at `offset` (and materialized) holds its own copy of the values. */
export function copiesOnCreation(buffer: ArrayBuffer, offset: number): boolean {
  const view = new Float32Array(buffer, offset, 16);
  const before = view[0]!;
  const probe = materialize(tf.tensor1d(view, 'float32'));
  try {
    view[0] = before + 1;
    return probe.dataSync()[0] === before;
  } finally {
    probe.dispose();
    view[0] = before;
  }
}

/**
 * An allocator of tensor values on the active backend that reuses one buffer (grown when a request is larger):
 * each call overwrites what the previous call returned, so make the tensor — `tf.tensor(…)` then
 * `materialize(…)` — before the next call. Where the backend would keep the array (cpu, webgpu), or for
 * arrays under `STAGING_MIN_BYTES`, it returns fresh arrays.
 */
export function stagingAllocator(): HostAllocator {
  let buffer: ArrayBuffer | undefined;
  let offset = -1;
  return (byteLength) => {
    if (byteLength < STAGING_MIN_BYTES) return new Uint8Array(byteLength);
    if (!buffer || buffer.byteLength - SPARE < byteLength) {
      buffer = new ArrayBuffer(byteLength + SPARE);
      offset = -1;
      for (let o = 0; o < SPARE && offset < 0; o += 4) if (copiesOnCreation(buffer, o)) offset = o;
    }
    return offset < 0 ? new Uint8Array(byteLength) : new Uint8Array(buffer, offset, byteLength);
  };
}

/** An allocator that reuses one plain host buffer (grown when needed) for bytes that never become a tensor. */
export function reusableAllocator(): HostAllocator {
  let buffer = new Uint8Array(0);
  return (byteLength) => {
    if (buffer.byteLength < byteLength) buffer = new Uint8Array(byteLength);
    return buffer.subarray(0, byteLength);
  };
}
