/**
 * Test image datasets written from known pixels: seeded 32×32 RGB images, their CIFAR-10 / CIFAR-100 binary
 * records (written here from the format's spec: label byte(s), then the R, G and B planes row by row) and
 * the same pixels as PNG class folders.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { createRng } from '../../lib/math/rng.js';

/** A test image: interleaved RGB `[32, 32, 3]` and its labels. */
export interface TestImage {
  rgb: Uint8Array;
  label: number;
  coarse: number;
}

/** `count` seeded images with smooth blobs (not pure noise, so classes differ in the lens) and labels < `classes`. */
export function seededImages(seed: number, count: number, classes = 10): TestImage[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => {
    const label = rng.uniformInt(classes);
    const coarse = rng.uniformInt(20);
    const [cx, cy, r] = [rng.uniformInt(32), rng.uniformInt(32), 4 + rng.uniformInt(12)];
    const fg = [rng.uniformInt(256), rng.uniformInt(256), rng.uniformInt(256)];
    const rgb = new Uint8Array(32 * 32 * 3);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const inside = (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
        for (let c = 0; c < 3; c++) rgb[(y * 32 + x) * 3 + c] = inside ? fg[c]! : rng.uniformInt(256) >> 2;
      }
    }
    return { rgb, label, coarse };
  });
}

/** The CIFAR binary bytes of `images` (`cifar10`: 1 label byte; `cifar100`: coarse then fine label byte). */
export function cifarBytes(images: readonly TestImage[], variant: 'cifar10' | 'cifar100'): Uint8Array {
  const head = variant === 'cifar10' ? 1 : 2;
  const out = new Uint8Array(images.length * (head + 3072));
  images.forEach((im, i) => {
    const o = i * (head + 3072);
    if (variant === 'cifar10') out[o] = im.label;
    else {
      out[o] = im.coarse;
      out[o + 1] = im.label;
    }
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[o + head + c * 1024 + p] = im.rgb[p * 3 + c]!;
  });
  return out;
}

/** PNG bytes of an RGB image. */
export function pngBytes(rgb: Uint8Array, width = 32, height = 32): Buffer {
  const png = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) png.data.set([rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!, 255], p * 4);
  return PNG.sync.write(png);
}

/**
 * Writes `images` as class folders `root/<classes[label]>/<i>.png` (i zero-padded, so the listing order is
 * the order of `images` within a class).
 */
export function writeClassFolders(root: string, images: readonly TestImage[], classes: readonly string[]): void {
  images.forEach((im, i) => {
    const dir = join(root, classes[im.label]!);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${String(i).padStart(4, '0')}.png`), pngBytes(im.rgb));
  });
}
