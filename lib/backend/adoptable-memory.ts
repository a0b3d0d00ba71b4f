/**
 * Host memory that the active backend can take over without copying it.
 *
 * tfjs-node hands a typed array to libtensorflow with `TF_NewTensor`, which keeps the JavaScript memory as the
 * tensor's storage when its address is aligned for Eigen (`EIGEN_MAX_ALIGN_BYTES`, 64 bytes in the pip wheels)
 * and copies it into fresh memory otherwise. V8's large array buffers come from `malloc` and are 16-byte
 * aligned, so a weight read into a plain `Uint8Array` is written twice into memory the process touches for the
 * first time (the read, then TensorFlow's copy), and both copies are alive at once. On these virtual machines a
 * first touch costs more than the copy itself; loading GPT-2 XL spent half its time in that second copy.
 *
 * JavaScript cannot see an address, so the alignment is found by asking the backend: a 16-float probe view at
 * each 4-byte offset of a buffer with 64 spare bytes becomes a tensor, the view is then written, and the
 * tensor reads the new value back only when libtensorflow kept the memory (no copy). The weight then starts
 * at that offset. About 20 µs per probe, at most 16 probes per weight, only for weights of 256 KiB or more.
 * When the backend copies anyway (another build, another backend) the reader falls back to a plain array
 * after a few misses: the numbers are the same either way, only the copy count differs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { materialize } from './materialize.js';

/** Allocates `byteLength` bytes for a tensor's values (zero-filled). */
export type HostAllocator = (byteLength: number) => Uint8Array;

/** Weights below this size are copied (the copy is cheap and the probes would cost more). */
export const ADOPT_MIN_BYTES = 256 * 1024;
/** Alignment libtensorflow asks for (the largest `EIGEN_MAX_ALIGN_BYTES` of its builds). */
const ALIGN = 64;
/** Allocations that found no adoptable offset after which probing stops for this backend. */
const MAX_MISSES = 3;

const plain: HostAllocator = (byteLength) => new Uint8Array(byteLength);

/** Backend instance → whether probing is still worth it (false after MAX_MISSES misses in a row). */
const state = new WeakMap<object, { misses: number }>();

/** True when libtensorflow kept `buffer`'s memory at `offset` for a new tensor (written after creation, read back). */
function adoptedAt(buffer: ArrayBuffer, offset: number): boolean {
  const view = new Float32Array(buffer, offset, ALIGN / 4);
  const probe = materialize(tf.tensor1d(view, 'float32'));
  try {
    view[0] = 1;
    return probe.dataSync()[0] === 1;
  } finally {
    probe.dispose();
    view[0] = 0;
  }
}

/**
 * The allocator for tensor values on the active backend: on `tensorflow`, large arrays start at an offset that
 * libtensorflow adopts without a copy (see the module comment); elsewhere (wasm and webgpu copy into their
 * own memory, cpu keeps the array) a plain `Uint8Array`.
 *
 * The array returned must not be written once a tensor has been made from it: the tensor may share its memory.
 */
export function adoptableAllocator(): HostAllocator {
  if (tf.getBackend() !== 'tensorflow') return plain;
  const backend = tf.backend() as object;
  let s = state.get(backend);
  if (!s) state.set(backend, (s = { misses: 0 }));
  const probing = s;
  return (byteLength) => {
    if (byteLength < ADOPT_MIN_BYTES || probing.misses >= MAX_MISSES) return plain(byteLength);
    const buffer = new ArrayBuffer(byteLength + ALIGN);
    for (let offset = 0; offset < ALIGN; offset += 4) {
      if (adoptedAt(buffer, offset)) {
        probing.misses = 0;
        return new Uint8Array(buffer, offset, byteLength);
      }
    }
    probing.misses++;
    return new Uint8Array(buffer, 0, byteLength);
  };
}
