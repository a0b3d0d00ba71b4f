/**
 * Tensors whose storage is a region of a checkpoint file, mapped into memory (the `tensorflow` backend built by
 * `tfjs-lens setup tensorflow`, binding patch level 3 and on).
 *
 * Reading a weight and copying it into libtensorflow writes every byte into memory the process has never touched:
 * on a multi-GB checkpoint most of `loadModel` is the kernel faulting in fresh pages (1–3 GB/s on the development
 * VM). A mapped region instead shares the pages the file already has in the page cache, and they are mapped in as
 * the tensor is first read — what PyTorch's memory-mapped safetensors do. libtensorflow keeps a buffer as a
 * tensor's storage only at a 64-byte aligned address, so only tensors at a file offset that is a multiple of 64
 * can be mapped: Hugging Face writers align the data only to 8 bytes (one file in eight is aligned by chance);
 * `tfjs-lens align` rewrites a checkpoint so that every tensor is.
 *
 * The mapping is private (copy-on-write): nothing is ever written to the file. It stays valid after the file is
 * closed, and after the file is replaced by a rename (the mapping keeps the old file); truncating or overwriting the
 * file in place while a model uses it is undefined (the process may be killed by SIGBUS), as for any memory-mapped
 * checkpoint. `TFJS_LENS_MMAP=0` turns mapping off.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../errors.js';

/** Alignment libtensorflow needs to keep a buffer without copying it (EIGEN_MAX_ALIGN_BYTES). */
export const MAPPED_ALIGNMENT = 64;
/** Smaller tensors are read: a mapping costs a system call and at least one page. */
export const MAPPED_MIN_BYTES = 64 * 1024;

/** The patched tfjs-node binding (only the parts used here). */
interface MappingBinding {
  TF_FLOAT: number;
  createTensorFromFile?(shape: number[], dtype: number, fd: number, offset: number, byteLength: number): number;
}

interface NodeBackend {
  binding?: MappingBinding;
  createOutputTensor?(metadata: { id: number; shape: number[]; dtype: number }): tf.Tensor;
}

/** The active backend's mapping entry points, or undefined where tensors cannot map files. */
function mappingBackend(): { binding: MappingBinding & Required<Pick<MappingBinding, 'createTensorFromFile'>>; backend: Required<Pick<NodeBackend, 'createOutputTensor'>> } | undefined {
  if (tf.getBackend() !== 'tensorflow' || process.env.TFJS_LENS_MMAP === '0' || process.platform === 'win32') return undefined;
  const backend = tf.backend() as unknown as NodeBackend;
  const binding = backend.binding;
  if (typeof binding?.createTensorFromFile !== 'function' || typeof backend.createOutputTensor !== 'function') return undefined;
  return { binding: binding as MappingBinding & Required<Pick<MappingBinding, 'createTensorFromFile'>>, backend: backend as Required<Pick<NodeBackend, 'createOutputTensor'>> };
}

/** True when the active backend can make tensors that map file regions (and `TFJS_LENS_MMAP` is not `0`; not on Windows). */
export function fileTensorsAvailable(): boolean {
  return mappingBackend() !== undefined;
}

/**
 * Bytes of the files `match` accepts (by path) that are mapped into this process now, from `/proc/self/maps`
 * (0 where it does not exist): how much of a checkpoint its tensors map.
 */
export function mappedFileBytes(match: (path: string) => boolean): number {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return 0;
  }
  let total = 0;
  for (const line of maps.split('\n')) {
    // address-range perms offset dev inode path (the path may hold spaces)
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+\S+\s+\S+\s+\S+\s+\S+\s+(\/.*)$/.exec(line);
    if (m && match(m[3]!)) total += parseInt(m[2]!, 16) - parseInt(m[1]!, 16);
  }
  return total;
}

/** True when a region at file offset `offset` of `byteLength` bytes would be mapped rather than read. */
export function mappableRegion(offset: number, byteLength: number): boolean {
  return offset % MAPPED_ALIGNMENT === 0 && byteLength >= MAPPED_MIN_BYTES;
}

/**
 * A float32 tensor `shape` whose storage maps `byteLength` little-endian bytes at `offset` of the open file `fd`
 * (the file may be closed afterwards). Undefined where the backend cannot map files or the region is not
 * `mappableRegion` — read it instead.
 * @throws CheckpointError naming `file` and the reason when the mapping fails (the hint: `TFJS_LENS_MMAP=0` reads).
 */
export function tensorFromFile(fd: number, offset: number, byteLength: number, shape: readonly number[], file = `file descriptor ${fd}`): tf.Tensor | undefined {
  const mapping = mappingBackend();
  if (!mapping || !mappableRegion(offset, byteLength)) return undefined;
  if (byteLength !== shape.reduce((a, b) => a * b, 1) * 4) return undefined;
  let id: number;
  try {
    id = mapping.binding.createTensorFromFile([...shape], mapping.binding.TF_FLOAT, fd, offset, byteLength);
  } catch (err) {
    throw new CheckpointError(`cannot map ${byteLength} bytes at offset ${offset} of ${file}: ${(err as Error).message.split('\n')[0]}`, 'set TFJS_LENS_MMAP=0 to read the weights instead of mapping them');
  }
  return mapping.backend.createOutputTensor({ id, shape: [...shape], dtype: mapping.binding.TF_FLOAT });
}
