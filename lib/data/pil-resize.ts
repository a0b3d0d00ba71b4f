/**
 * Antialiased bilinear resize of 8-bit images with the exact integer arithmetic of the two references
 * that Hugging Face image processors use:
 *
 * - `'pillow'`: Pillow's `Image.resize(size, Image.BILINEAR)` (libImaging/Resample.c), used by the
 *   "slow" `ViTImageProcessor`;
 * - `'torchvision'`: PyTorch's uint8 antialiased bilinear kernel (`torchvision.transforms.v2.functional.
 *   resize(…, antialias=True)` on a uint8 tensor, a port of Pillow-SIMD), used by the "fast" image
 *   processors that transformers 5 picks by default. It is Pillow's algorithm with 16-bit weights.
 *
 * Why hand-written: no npm package reproduces either bit for bit (sharp/jimp/canvas resize with other
 * kernels, rounding and edge rules), and parity with the reference preprocessing is the point.
 *
 * The algorithm (re-derived from the references' documented behaviour, not copied):
 * - Separable: a horizontal pass (when the width changes) into an 8-bit intermediate image, then a
 *   vertical pass (when the height changes). Each pass rounds to uint8.
 * - For an axis of `inSize → outSize`, `scale = inSize / outSize` and `filterScale = max(scale, 1)`. The
 *   triangle filter `f(x) = max(0, 1 − |x|)` is stretched by `filterScale` (so downscaling averages over
 *   `scale` input pixels: antialiasing), and its support is `support = 1 · filterScale`.
 * - Output pixel `o` is centred at `c = (o + 0.5) · scale` in input coordinates. It reads input pixels
 *   `xmin = trunc(c − support + 0.5)` (clamped to ≥ 0) up to `xmax = trunc(c + support + 0.5)` (exclusive,
 *   clamped to ≤ inSize), with weights `f((x − c + 0.5) / filterScale)` normalised to sum to 1.
 * - Weights become fixed point with `P` fractional bits (`round-half-away(w · 2^P)`); a pixel is
 *   `clip8((2^(P−1) + Σ in·w) >> P)`, i.e. rounded to nearest and clamped to [0, 255].
 *   Pillow: `P = 22`. torchvision: `P` is the smallest `p ≥ 0` with `round(wmax · 2^(p+1)) ≥ 2^15` (at
 *   most 22), i.e. the most bits that keep the axis' largest weight `wmax` inside an int16; typically
 *   14–15 bits, so some pixels come out one level apart from Pillow's.
 */
import { InvalidArgumentError } from '../errors.js';

/** Fractional bits of Pillow's fixed-point weights for 8-bit images (32 − 8 − 2). */
const PILLOW_PRECISION_BITS = 22;

/** Which reference's fixed-point arithmetic to reproduce (see the file comment). */
export type BilinearFixedPoint = 'pillow' | 'torchvision';

/** Fixed-point weights of one axis: output `o` reads `count[o]` inputs from `first[o]`. */
interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  /** `[outSize, maxTaps]` integer weights (scaled by 2^precision). */
  weights: Int32Array;
  maxTaps: number;
  /** Fractional bits of `weights`. */
  precision: number;
}

function triangle(x: number): number {
  const ax = Math.abs(x);
  return ax < 1 ? 1 - ax : 0;
}

/** Weights for resampling one axis from `inSize` to `outSize` pixels (BILINEAR, 8-bit). */
function axisWeights(inSize: number, outSize: number, fixedPoint: BilinearFixedPoint): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * maxTaps);
  const real = new Float64Array(outSize * maxTaps);
  let maxWeight = 0;
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const n = hi - lo;
    const row = o * maxTaps;
    let sum = 0;
    for (let t = 0; t < n; t++) {
      real[row + t] = triangle((t + lo - center + 0.5) / filterScale);
      sum += real[row + t];
    }
    for (let t = 0; t < n; t++) {
      if (sum !== 0) real[row + t] /= sum;
      maxWeight = Math.max(maxWeight, real[row + t]);
    }
    first[o] = lo;
    count[o] = n;
  }
  const precision = fixedPoint === 'pillow' ? PILLOW_PRECISION_BITS : int16Precision(maxWeight);
  const one = 2 ** precision;
  for (let i = 0; i < real.length; i++) {
    const w = real[i];
    // Round half away from zero, then truncate toward zero, as C's (int) cast does.
    weights[i] = Math.trunc(w < 0 ? w * one - 0.5 : w * one + 0.5);
  }
  return { first, count, weights, maxTaps, precision };
}

/** torchvision/Pillow-SIMD: the most fractional bits (≤ 22) with which `maxWeight` fits an int16. */
function int16Precision(maxWeight: number): number {
  let precision = 0;
  for (; precision < PILLOW_PRECISION_BITS; precision++) {
    if (Math.trunc(0.5 + maxWeight * 2 ** (precision + 1)) >= 2 ** 15) break;
  }
  return precision;
}

/** `(acc >> precision)` clamped to [0, 255]; `acc` already holds the rounding offset 2^(precision−1). */
function clip8(acc: number, one: number): number {
  const v = Math.floor(acc / one);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function horizontalPass(src: Uint8Array, w: number, h: number, outW: number, channels: number, fixedPoint: BilinearFixedPoint): Uint8Array {
  const { first, count, weights, maxTaps, precision } = axisWeights(w, outW, fixedPoint);
  const one = 2 ** precision;
  const half = one / 2;
  const out = new Uint8Array(outW * h * channels);
  for (let y = 0; y < h; y++) {
    const row = y * w * channels;
    for (let o = 0; o < outW; o++) {
      const base = o * maxTaps;
      const lo = first[o];
      const n = count[o];
      for (let c = 0; c < channels; c++) {
        let acc = half;
        for (let t = 0; t < n; t++) acc += src[row + (lo + t) * channels + c] * weights[base + t];
        out[(y * outW + o) * channels + c] = clip8(acc, one);
      }
    }
  }
  return out;
}

function verticalPass(src: Uint8Array, w: number, h: number, outH: number, channels: number, fixedPoint: BilinearFixedPoint): Uint8Array {
  const { first, count, weights, maxTaps, precision } = axisWeights(h, outH, fixedPoint);
  const one = 2 ** precision;
  const half = one / 2;
  const out = new Uint8Array(w * outH * channels);
  const stride = w * channels;
  for (let o = 0; o < outH; o++) {
    const base = o * maxTaps;
    const lo = first[o];
    const n = count[o];
    for (let i = 0; i < stride; i++) {
      let acc = half;
      for (let t = 0; t < n; t++) acc += src[(lo + t) * stride + i] * weights[base + t];
      out[o * stride + i] = clip8(acc, one);
    }
  }
  return out;
}

/**
 * Resizes an interleaved 8-bit image like Pillow's `Image.resize((outW, outH), Image.BILINEAR)`
 * (antialiased when downscaling, rounded to uint8 after each separable pass), or with
 * `fixedPoint: 'torchvision'` like torchvision's antialiased bilinear resize of a uint8 tensor.
 * @param rgb interleaved pixels, `[h, w, channels]` row-major (channels = `rgb.length / (w·h)`, normally 3).
 * @param w input width; @param h input height; @param outW output width; @param outH output height.
 * @param opts.fixedPoint `'pillow'` (default, 22-bit weights) or `'torchvision'` (int16 weights).
 * @returns a new `[outH, outW, channels]` Uint8Array (a copy when the size does not change).
 * @throws InvalidArgumentError when a size is not a positive integer or the buffer length does not match.
 */
export function resizeBilinearPil(
  rgb: Uint8Array,
  w: number,
  h: number,
  outW: number,
  outH: number,
  opts: { fixedPoint?: BilinearFixedPoint } = {},
): Uint8Array {
  const fixedPoint = opts.fixedPoint ?? 'pillow';
  if (fixedPoint !== 'pillow' && fixedPoint !== 'torchvision') {
    throw new InvalidArgumentError(`resizeBilinearPil: fixedPoint must be 'pillow' or 'torchvision', got '${String(fixedPoint)}'`);
  }
  for (const [name, v] of [['w', w], ['h', h], ['outW', outW], ['outH', outH]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new InvalidArgumentError(`resizeBilinearPil: ${name} must be a positive integer, got ${v}`);
  }
  const channels = rgb.length / (w * h);
  if (!Number.isInteger(channels) || channels < 1) {
    throw new InvalidArgumentError(`resizeBilinearPil: a buffer of ${rgb.length} bytes does not hold a ${w}×${h} image`);
  }
  let pixels = rgb;
  let width = w;
  if (outW !== w) {
    pixels = horizontalPass(pixels, w, h, outW, channels, fixedPoint);
    width = outW;
  }
  if (outH !== h) pixels = verticalPass(pixels, width, h, outH, channels, fixedPoint);
  return pixels === rgb ? rgb.slice() : pixels;
}
