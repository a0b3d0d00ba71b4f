/**
 * Rewrites safetensors files so that every tensor's data starts at a file offset that is a multiple of 64 — the
 * alignment libtensorflow needs to use mapped file pages as a tensor's storage (backend/file-tensors.ts).
 *
 * The format has no padding between tensors (the data buffer must be tiled exactly), only after the header JSON,
 * which the reference writer pads with spaces to a multiple of 8. So the header is padded instead so that the data
 * starts at a multiple of 64, and the tensors are laid out with those whose byte length is a multiple of 64 first
 * (in the original order), then the others (only those can leave later tensors unaligned). The values, dtypes,
 * shapes, names and metadata are copied unchanged: the result is a valid safetensors file for every reader.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError, OutputWriteError, TfjsLensError } from '../errors.js';
import { MAPPED_MIN_BYTES, mappableRegion } from '../backend/file-tensors.js';
import { openCheckpoint } from './checkpoint.js';
import { withSafetensors } from './safetensors.js';
import { encodeHeader, TENSOR_ALIGNMENT } from './safetensors-writer.js';
import type { TensorInfo } from './safetensors-layout.js';
import { systemErrorReason } from './system-error.js';

export { TENSOR_ALIGNMENT } from './safetensors-writer.js';
/** Bytes copied per read/write. */
const COPY_CHUNK = 64 * 2 ** 20;

/** What `alignSafetensors` wrote. */
export interface AlignedFile {
  tensors: number;
  /** Tensors whose data starts at a multiple of `TENSOR_ALIGNMENT` (all but at most a tail of odd-sized ones). */
  alignedTensors: number;
  bytes: number;
}

/** The tensors in the order they are written: 64-multiple byte lengths first, each group in file order. */
export function alignedOrder(tensors: readonly TensorInfo[]): TensorInfo[] {
  const even = tensors.filter((t) => t.byteLength % TENSOR_ALIGNMENT === 0);
  const odd = tensors.filter((t) => t.byteLength % TENSOR_ALIGNMENT !== 0);
  return [...even, ...odd];
}

/**
 * The header bytes (`encodeHeader`: the data starts at a multiple of `TENSOR_ALIGNMENT`) for `order`.
 */
export function alignedHeader(order: readonly TensorInfo[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of order) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  return encodeHeader(header);
}

/**
 * Writes `src` to `dst` with every tensor 64-byte aligned (see the module doc). `dst` is written under a temporary
 * name and renamed when complete.
 * @throws InvalidArgumentError when `dst` is `src` or a dimension does not fit a JavaScript number;
 *   OutputWriteError when `dst` cannot be written (nothing is left under its name);
 *   the reader's errors for an invalid `src`.
 */
export async function alignSafetensors(src: string, dst: string): Promise<AlignedFile> {
  if (resolve(src) === resolve(dst)) throw new InvalidArgumentError(`cannot align ${src} onto itself`, 'write the aligned file to another path');
  return withSafetensors(src, async (file) => {
    const tensors = file.header.tensors;
    const bad = tensors.find((t) => !t.shape.every(Number.isSafeInteger));
    if (bad) throw new InvalidArgumentError(`${src}: tensor '${bad.name}' has a dimension above 2^53, which cannot be rewritten exactly`);
    const order = alignedOrder(tensors);
    const head = alignedHeader(order, file.header.metadata);
    const tmp = `${dst}.${process.pid}.partial`;
    let out: FileHandle | undefined;
    let position = 0;
    try {
      out = await open(tmp, 'wx');
      await out.write(head, 0, head.byteLength, 0);
      position = head.byteLength;
      const buffer = new Uint8Array(Math.min(COPY_CHUNK, Math.max(1, ...tensors.map((t) => t.byteLength))));
      for (const t of order) {
        for (let done = 0; done < t.byteLength; ) {
          const n = Math.min(buffer.byteLength, t.byteLength - done);
          const bytes = await file.readRange(t.start + done, buffer.subarray(0, n));
          await out.write(bytes, 0, n, position);
          position += n;
          done += n;
        }
      }
      await out.close();
      out = undefined;
      await rename(tmp, dst);
    } catch (err) {
      await out?.close().catch(() => undefined);
      await rm(tmp, { force: true });
      // A system error while writing is the output's; the reader's own (typed) errors pass through.
      if (!(err instanceof TfjsLensError) && err instanceof Error && 'code' in err) throw new OutputWriteError(dst, systemErrorReason(err));
      throw err;
    }
    let aligned = 0;
    let offset = head.byteLength;
    for (const t of order) {
      if (offset % TENSOR_ALIGNMENT === 0) aligned++;
      offset += t.byteLength;
    }
    return { tensors: order.length, alignedTensors: aligned, bytes: position };
  });
}

/**
 * Bytes of `dir`'s float32 tensors of `MAPPED_MIN_BYTES` and more that are not at a multiple of 64 in their file:
 * the tensorflow backend reads them instead of mapping them (some are read anyway: GPT-2's fused `c_attn`, which is
 * cut on the host). 0 for an aligned checkpoint.
 */
export async function unalignedWeightBytes(dir: string): Promise<number> {
  const ckpt = await openCheckpoint(dir);
  try {
    return ckpt.keys().reduce((sum, key) => {
      const info = ckpt.info(key);
      return info.dtype === 'F32' && info.byteLength >= MAPPED_MIN_BYTES && !mappableRegion(info.start, info.byteLength) ? sum + info.byteLength : sum;
    }, 0);
  } finally {
    await ckpt.close();
  }
}

/**
 * A one-line notice suggesting `tfjs-lens align` when `dir` has at least `minBytes` of weights the tensorflow backend
 * must read because they are unaligned; undefined otherwise.
 */
export async function alignmentNotice(dir: string, minBytes = 2 ** 30): Promise<string | undefined> {
  const bytes = await unalignedWeightBytes(dir);
  if (bytes < minBytes) return undefined;
  return `${(bytes / 2 ** 30).toFixed(2)} GiB of weights in ${dir} are not 64-byte aligned, so they are read into new memory instead of mapped; \`tfjs-lens align ${dir} --out DIR\` writes a copy that loads faster`;
}
