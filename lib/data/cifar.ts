/**
 * CIFAR-10 / CIFAR-100 binary batches (the "binary version" of https://www.cs.toronto.edu/~kriz/cifar.html):
 *
 * - CIFAR-10 (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`): records of 3073 bytes — 1 label byte
 *   (0–9), then 3072 pixel bytes: the 1024 red values of the 32×32 image row by row, then the 1024 green, then
 *   the 1024 blue. Class names: `batches.meta.txt`, one per line.
 * - CIFAR-100 (`train.bin`, `test.bin`): records of 3074 bytes — the coarse label byte (0–19), the fine label
 *   byte (0–99), then the same 3072 pixel bytes. Class names: `fine_label_names.txt`, `coarse_label_names.txt`.
 *
 * Images come out as `RgbImage` (interleaved RGB) for the ViT preprocessing (`vitPixelValuesBatch`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InvalidArgumentError, InvalidInputError } from '../errors.js';
import { readInputFile } from './read-input.js';
import type { RgbImage } from './image-decode.js';
import { utf8Lines } from './text-lines.js';

/** Side of a CIFAR image. */
export const CIFAR_SIDE = 32;
/** Pixel bytes of one record (3 planes of 32×32). */
export const CIFAR_PIXEL_BYTES = 3 * CIFAR_SIDE * CIFAR_SIDE;

/** Which CIFAR binary layout: 1 label byte (`'cifar10'`) or coarse + fine label bytes (`'cifar100'`). */
export type CifarVariant = 'cifar10' | 'cifar100';

/** A decoded CIFAR batch. */
export interface CifarBatch {
  /** The file read. */
  file: string;
  variant: CifarVariant;
  /** Number of records. */
  count: number;
  /** `[count]` labels: CIFAR-10 class 0–9, CIFAR-100 fine label 0–99. */
  labels: Uint8Array;
  /** `[count]` CIFAR-100 coarse labels 0–19 (absent for CIFAR-10). */
  coarseLabels?: Uint8Array;
  /** Class names by label, from the meta file next to the batch when it exists. */
  classes?: string[];
  /** Raw records (the file's bytes). */
  bytes: Uint8Array;
}

const NAMES: Record<CifarVariant, RegExp> = { cifar10: /^(data_batch_\d+|test_batch)\.bin$/, cifar100: /^(train|test)\.bin$/ };
const RECORD: Record<CifarVariant, number> = { cifar10: 1 + CIFAR_PIXEL_BYTES, cifar100: 2 + CIFAR_PIXEL_BYTES };
const META: Record<CifarVariant, string> = { cifar10: 'batches.meta.txt', cifar100: 'fine_label_names.txt' };
const MAX_LABEL: Record<CifarVariant, number> = { cifar10: 9, cifar100: 99 };

/** The layout of a batch file: from its name (`data_batch_*.bin`/`test_batch.bin` vs `train.bin`/`test.bin`), else from its size. */
function detectVariant(file: string, size: number): CifarVariant {
  const name = basename(file);
  for (const v of ['cifar10', 'cifar100'] as const) if (NAMES[v].test(name)) return v;
  const fits = (['cifar10', 'cifar100'] as const).filter((v) => size > 0 && size % RECORD[v] === 0);
  if (fits.length === 1) return fits[0]!;
  throw new InvalidInputError(file, `cannot tell CIFAR-10 from CIFAR-100 records (${size} bytes is ${fits.length ? 'a multiple of both' : 'a multiple of neither'} 3073 and 3074)`, "name the variant (variant: 'cifar10' | 'cifar100'), or keep the original file names");
}

/**
 * Reads one CIFAR binary batch file.
 * @param opts.variant the layout (default: from the file name, else from the size).
 * @throws InvalidInputError for a size that is not a whole number of records or a label out of range
 *   (naming the record).
 */
export function readCifarBatch(file: string, opts: { variant?: CifarVariant } = {}): CifarBatch {
  const bytes = readInputFile(file, 'CIFAR batch');
  const variant = opts.variant ?? detectVariant(file, bytes.length);
  if (variant !== 'cifar10' && variant !== 'cifar100') throw new InvalidArgumentError(`readCifarBatch: variant must be 'cifar10' or 'cifar100', got '${String(variant)}'`);
  const size = RECORD[variant];
  if (bytes.length === 0 || bytes.length % size !== 0) {
    throw new InvalidInputError(file, `${bytes.length} bytes is not a whole number of ${variant === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100'} records (${size} bytes each: ${variant === 'cifar10' ? '1 label byte' : '2 label bytes'} + ${CIFAR_PIXEL_BYTES} pixel bytes)`, 'is the file truncated, or the other CIFAR variant?');
  }
  const count = bytes.length / size;
  const labelAt = variant === 'cifar10' ? 0 : 1;
  const labels = new Uint8Array(count);
  const coarseLabels = variant === 'cifar100' ? new Uint8Array(count) : undefined;
  for (let i = 0; i < count; i++) {
    const label = bytes[i * size + labelAt]!;
    if (label > MAX_LABEL[variant]) throw new InvalidInputError(`${file} record ${i}`, `label byte ${label} is outside 0 … ${MAX_LABEL[variant]}`, 'is this a CIFAR batch of the other variant?');
    labels[i] = label;
    if (coarseLabels) {
      const coarse = bytes[i * size]!;
      if (coarse > 19) throw new InvalidInputError(`${file} record ${i}`, `coarse label byte ${coarse} is outside 0 … 19`);
      coarseLabels[i] = coarse;
    }
  }
  const metaFile = join(dirname(file), META[variant]);
  const classes = existsSync(metaFile) ? utf8Lines(metaFile, 'CIFAR class names').map((l) => l.trim()).filter(Boolean) : undefined;
  return { file, variant, count, labels, ...(coarseLabels ? { coarseLabels } : {}), ...(classes ? { classes } : {}), bytes };
}

/**
 * Image `index` of a batch as interleaved RGB (the planar R, G, B planes of the record interleaved).
 * @returns a 32×32 `RgbImage`.
 */
export function cifarImage(batch: CifarBatch, index: number): RgbImage {
  if (!Number.isInteger(index) || index < 0 || index >= batch.count) throw new InvalidArgumentError(`cifarImage: index ${index} is outside 0 … ${batch.count - 1} of ${batch.file}`);
  const size = RECORD[batch.variant];
  const start = index * size + (size - CIFAR_PIXEL_BYTES);
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  const rgb = new Uint8Array(CIFAR_PIXEL_BYTES);
  for (let p = 0; p < plane; p++) {
    rgb[p * 3] = batch.bytes[start + p]!;
    rgb[p * 3 + 1] = batch.bytes[start + plane + p]!;
    rgb[p * 3 + 2] = batch.bytes[start + 2 * plane + p]!;
  }
  return { width: CIFAR_SIDE, height: CIFAR_SIDE, rgb };
}

/**
 * The CIFAR batch files of a folder (`cifar-10-batches-bin/`, `cifar-100-binary/`), in sorted order;
 * empty when it holds none.
 */
export function cifarBatchFiles(dir: string): string[] {
  const names = readdirSync(dir).filter((n) => NAMES.cifar10.test(n) || NAMES.cifar100.test(n)).sort();
  return names.map((n) => join(dir, n));
}
