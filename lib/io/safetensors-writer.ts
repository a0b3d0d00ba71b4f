/**
 * Safetensors writer: saves named tensors (caches, fitted matrices, checkpoints) with string metadata
 * in a file that Python's `safetensors.torch.load_file` reads. Tensors are written one at a time.
 */
import { open, rm } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { MAPPED_ALIGNMENT } from '../backend/file-tensors.js';
import { InvalidArgumentError } from '../errors.js';
import { DTYPE_SIZE, encodeValues, isSupportedDtype, type SafetensorsDtype } from './dtypes.js';

/** Host values to save; `dtype` defaults to F32 for Float32Array, I32 for Int32Array, U8/BOOL for Uint8Array. */
export interface HostValues {
  shape: readonly number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array | number[];
  dtype?: SafetensorsDtype;
}

/** A value accepted by `saveSafetensors`: a tfjs tensor (read back to host) or host values. */
export type SaveValue = tf.Tensor | HostValues;

function defaultDtype(v: HostValues): SafetensorsDtype {
  if (v.dtype) return v.dtype;
  if (v.data instanceof Int32Array) return 'I32';
  if (v.data instanceof Uint8Array) return 'U8';
  if (v.data instanceof Float64Array) return 'F64';
  return 'F32';
}

async function toHost(value: SaveValue, name: string): Promise<{ dtype: SafetensorsDtype; shape: number[]; data: ArrayLike<number> }> {
  if (value instanceof tf.Tensor) {
    const data = await value.data();
    const dtype: SafetensorsDtype = value.dtype === 'int32' ? 'I32' : value.dtype === 'bool' ? 'BOOL' : 'F32';
    if (value.dtype !== 'float32' && value.dtype !== 'int32' && value.dtype !== 'bool') {
      throw new InvalidArgumentError(`cannot save tensor '${name}' of dtype ${value.dtype}`);
    }
    return { dtype, shape: value.shape, data: data as ArrayLike<number> };
  }
  const dtype = defaultDtype(value);
  if (!isSupportedDtype(dtype)) throw new InvalidArgumentError(`tensor '${name}': unsupported dtype ${dtype}`);
  if (!value.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InvalidArgumentError(`tensor '${name}': shape [${value.shape.join(',')}] must hold non-negative integers`);
  }
  const count = value.shape.reduce((a, b) => a * b, 1);
  if (count !== value.data.length) {
    throw new InvalidArgumentError(`tensor '${name}': shape [${value.shape.join(',')}] holds ${count} values but data has ${value.data.length}`);
  }
  return { dtype, shape: [...value.shape], data: value.data };
}

/** Encodes one tensor's values, naming the tensor when a value does not fit the dtype. */
function encodeTensor(name: string, data: ArrayLike<number>, dtype: SafetensorsDtype): Uint8Array {
  try {
    return encodeValues(data, dtype);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(`tensor '${name}': ${err.message.split('\n')[0]}`, err.hint);
    throw err;
  }
}

/** Every tensor's data starts at a multiple of this where the byte lengths before it are multiples of it too. */
export const TENSOR_ALIGNMENT = MAPPED_ALIGNMENT;

/**
 * A file's header bytes: the 8-byte little-endian length, then `header` as JSON padded with spaces so that the data
 * starts at a multiple of `TENSOR_ALIGNMENT` (also a multiple of 8, as the reference writer pads). Tensors whose
 * preceding byte lengths are multiples of it can then be memory-mapped by the tensorflow backend
 * (backend/file-tensors.ts).
 */
export function encodeHeader(header: Record<string, unknown>): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.byteLength) / TENSOR_ALIGNMENT) * TENSOR_ALIGNMENT - 8;
  const bytes = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded), true);
  bytes.set(json, 8);
  return bytes;
}

/**
 * Writes `tensors` (name → tensor or host values) to `path` as safetensors, entries in the given order.
 * Metadata values must be strings (as the format requires).
 */
export async function saveSafetensors(path: string, tensors: Record<string, SaveValue> | Map<string, SaveValue>, metadata: Record<string, string> = {}): Promise<void> {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const hosts = [];
  for (const [name, value] of entries) {
    if (name === '__metadata__') throw new InvalidArgumentError(`'__metadata__' cannot be a tensor name (it holds the file's metadata)`, 'pass metadata as the third argument');
    hosts.push({ name, ...(await toHost(value, name)) });
  }
  // Null prototype: a tensor named '__proto__' becomes a plain key, not the object's prototype.
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new InvalidArgumentError(`metadata '${k}' must be a string`);
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const h of hosts) {
    const bytes = h.data.length * DTYPE_SIZE[h.dtype];
    header[h.name] = { dtype: h.dtype, shape: h.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const head = encodeHeader(header);
  const handle = await open(path, 'w');
  let complete = false;
  try {
    await handle.write(head);
    for (const h of hosts) await handle.write(encodeTensor(h.name, h.data, h.dtype));
    complete = true;
  } finally {
    await handle.close();
    // Never leave a half-written file behind (e.g. a value that does not fit its integer dtype).
    if (!complete) await rm(path, { force: true });
  }
}
