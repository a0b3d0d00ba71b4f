/**
 * ViT image preprocessing with Hugging Face parity (`ViTImageProcessor` / `ViTImageProcessorFast`):
 * decode → RGB uint8 → antialiased bilinear resize in uint8 (torchvision's or Pillow's fixed point) →
 * `× rescale` → `(x − mean) / std` → channels first.
 *
 * See docs/preprocessing.md for the exact steps and the measured error against the reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors.js';
import { decodeImage, type RgbImage } from './image-decode.js';
import { resizeBilinearPil, type BilinearFixedPoint } from './pil-resize.js';
import { readInputFile, BYTES_SOURCE } from './read-input.js';

export { decodeImage, sniffImageFormat, type RgbImage, type ImageFormat } from './image-decode.js';
export { resizeBilinearPil, type BilinearFixedPoint } from './pil-resize.js';

/** Options of `vitPixelValues` (the fields of a ViT `preprocessor_config.json`). */
export interface VitPreprocessOptions {
  /** Output size: a square side, or `{ height, width }` as in `preprocessor_config.json`. */
  size: number | { height: number; width: number };
  /** Per-channel mean subtracted after rescaling (`image_mean`); default `[0.5, 0.5, 0.5]`. */
  mean?: readonly number[];
  /** Per-channel divisor (`image_std`); default `[0.5, 0.5, 0.5]`. */
  std?: readonly number[];
  /** Factor applied to the uint8 values (`rescale_factor`); default `1/255`. */
  rescale?: number;
  /**
   * Whose uint8 bilinear arithmetic to reproduce: `'torchvision'` (default: `ViTImageProcessorFast`, what
   * transformers 5's `AutoImageProcessor` returns) or `'pillow'` (the slow `ViTImageProcessor`). They differ
   * by one level in a few pixels when downscaling.
   */
  resize?: BilinearFixedPoint;
}

interface ResolvedOptions {
  height: number;
  width: number;
  mean: readonly number[];
  std: readonly number[];
  rescale: number;
  resize: BilinearFixedPoint;
}

function resolveOptions(opts: VitPreprocessOptions): ResolvedOptions {
  const { height, width } = typeof opts.size === 'number' ? { height: opts.size, width: opts.size } : opts.size;
  for (const [name, v] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new InvalidArgumentError(`vitPixelValues: size ${name} must be a positive integer, got ${v}`);
  }
  const mean = opts.mean ?? [0.5, 0.5, 0.5];
  const std = opts.std ?? [0.5, 0.5, 0.5];
  const rescale = opts.rescale ?? 1 / 255;
  if (mean.length !== 3 || std.length !== 3) {
    throw new InvalidArgumentError(`vitPixelValues: mean and std need 3 values (RGB), got ${mean.length} and ${std.length}`);
  }
  if (mean.some((m) => typeof m !== 'number' || !Number.isFinite(m))) throw new InvalidArgumentError(`vitPixelValues: mean has a non-finite value: [${mean.join(', ')}]`, "image_mean in preprocessor_config.json holds 3 finite numbers");
  if (std.some((s) => typeof s !== 'number' || s === 0 || !Number.isFinite(s))) throw new InvalidArgumentError(`vitPixelValues: std has a zero or non-finite value: [${std.join(', ')}]`);
  if (!Number.isFinite(rescale)) throw new InvalidArgumentError(`vitPixelValues: rescale must be finite, got ${rescale}`);
  const resize = opts.resize ?? 'torchvision';
  if (resize !== 'torchvision' && resize !== 'pillow') {
    throw new InvalidArgumentError(`vitPixelValues: resize must be 'torchvision' or 'pillow', got '${String(resize)}'`);
  }
  return { height, width, mean, std, rescale, resize };
}

/** An image input: a PNG/JPEG path, the file's bytes, or an already decoded `RgbImage` (e.g. a CIFAR record). */
export type ImageSource = string | Uint8Array | RgbImage;

function loadImage(pathOrBytes: ImageSource): RgbImage {
  if (typeof pathOrBytes === 'object' && !(pathOrBytes instanceof Uint8Array)) return checkRgb(pathOrBytes);
  if (typeof pathOrBytes === 'string') return decodeImage(readInputFile(pathOrBytes, 'image'), pathOrBytes);
  return decodeImage(pathOrBytes, BYTES_SOURCE);
}

function checkRgb(image: RgbImage): RgbImage {
  const { width, height, rgb } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || !(rgb instanceof Uint8Array) || rgb.length !== width * height * 3) {
    throw new InvalidArgumentError(`vitPixelValues: an RgbImage needs positive integer width/height and width·height·3 = ${width * height * 3} bytes of rgb, got ${rgb?.length ?? 'none'}`);
  }
  return image;
}

/** Writes one preprocessed image, `[3, height, width]`, into `out` at `offset`. */
function preprocessInto(image: RgbImage, o: ResolvedOptions, out: Float32Array, offset: number): void {
  const resized = resizeBilinearPil(image.rgb, image.width, image.height, o.width, o.height, { fixedPoint: o.resize });
  const plane = o.height * o.width;
  for (let c = 0; c < 3; c++) {
    const mean = o.mean[c];
    const std = o.std[c];
    const dst = offset + c * plane;
    for (let p = 0; p < plane; p++) out[dst + p] = (resized[p * 3 + c] * o.rescale - mean) / std;
  }
}

/**
 * The `pixel_values` that Hugging Face's `ViTImageProcessor` computes for one image.
 * @param pathOrBytes a PNG/JPEG file path, or the file's bytes.
 * @returns float32 `[1, 3, height, width]` (the caller disposes it).
 * @throws InvalidInputError for a missing, corrupt or unsupported image; InvalidArgumentError for bad options.
 */
export function vitPixelValues(pathOrBytes: string | Uint8Array, opts: VitPreprocessOptions): tf.Tensor4D {
  return vitPixelValuesBatch([pathOrBytes], opts);
}

/**
 * `pixel_values` of several images, stacked in order.
 * @param inputs PNG/JPEG file paths, file bytes or decoded `RgbImage`s (may be mixed).
 * @returns float32 `[batch, 3, height, width]` (the caller disposes it).
 * @throws InvalidInputError for a missing, corrupt or unsupported image; InvalidArgumentError for bad options or no input.
 */
export function vitPixelValuesBatch(inputs: readonly ImageSource[], opts: VitPreprocessOptions): tf.Tensor4D {
  const o = resolveOptions(opts);
  if (inputs.length === 0) throw new InvalidArgumentError('vitPixelValuesBatch: no images given');
  const perImage = 3 * o.height * o.width;
  const values = new Float32Array(inputs.length * perImage);
  inputs.forEach((input, i) => preprocessInto(loadImage(input), o, values, i * perImage));
  return tf.tensor4d(values, [inputs.length, 3, o.height, o.width], 'float32');
}

/**
 * The same values as `vitPixelValues`, as a plain array (no tensor): `[3, height, width]` row-major.
 * @param pathOrBytes a PNG/JPEG file path, or the file's bytes.
 */
export function vitPixelArray(pathOrBytes: string | Uint8Array, opts: VitPreprocessOptions): Float32Array {
  const o = resolveOptions(opts);
  const values = new Float32Array(3 * o.height * o.width);
  preprocessInto(loadImage(pathOrBytes), o, values, 0);
  return values;
}
