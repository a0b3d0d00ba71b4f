#!/usr/bin/env node
// Draw the sample images in data/images/ (license-clean by construction: the project draws them).
//
//   node scripts/data/make-images.mjs [--out data/images]
//
// Uses the project's own dependencies pngjs (PNG encoder) and jpeg-js (JPEG encoder).
// Shapes are anti-aliased by 4x4 supersampling. Pixels are deterministic; the PNG bytes are
// deterministic for a given zlib (Node) version.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { makeRng } from './rng.mjs';

const { PNG } = pngjs;
const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'data/images' } } });
const OUT = resolve(args.out);
mkdirSync(OUT, { recursive: true });

const SS = 4; // supersampling factor per axis

/**
 * Render an image from a function giving the RGBA colour ([0,255] each) at a continuous
 * point (x, y) in pixel units; each pixel averages SS x SS samples.
 * @returns {{ width: number, height: number, data: Buffer }} RGBA, 8 bits per channel
 */
function render(width, height, colourAt) {
  const data = Buffer.alloc(width * height * 4);
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const c = colourAt(px + (sx + 0.5) / SS, py + (sy + 0.5) / SS);
          // Premultiply so that transparent samples do not darken edges.
          const a = c[3] ?? 255;
          acc[0] += c[0] * a; acc[1] += c[1] * a; acc[2] += c[2] * a; acc[3] += a;
        }
      }
      const o = (py * width + px) * 4;
      const alpha = acc[3] / (SS * SS);
      data[o + 0] = acc[3] ? Math.round(acc[0] / acc[3]) : 0;
      data[o + 1] = acc[3] ? Math.round(acc[1] / acc[3]) : 0;
      data[o + 2] = acc[3] ? Math.round(acc[2] / acc[3]) : 0;
      data[o + 3] = Math.round(alpha);
    }
  }
  return { width, height, data };
}

/** Write a PNG; colorType 0 = greyscale, 2 = RGB, 6 = RGBA (input is always RGBA). */
function writePng(name, img, colorType) {
  const png = new PNG({ width: img.width, height: img.height });
  img.data.copy(png.data);
  const buf = PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true, deflateLevel: 9 });
  writeFileSync(join(OUT, name), buf);
  return { name, bytes: buf.length };
}

const lerp = (a, b, t) => a + (b - a) * t;
const mix = (c0, c1, t) => [lerp(c0[0], c1[0], t), lerp(c0[1], c1[1], t), lerp(c0[2], c1[2], t)];
const inCircle = (x, y, cx, cy, r) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
/** Point in triangle by barycentric signs. */
function inTriangle(x, y, [ax, ay], [bx, by], [cx, cy]) {
  const d1 = (x - bx) * (ay - by) - (ax - bx) * (y - by);
  const d2 = (x - cx) * (by - cy) - (bx - cx) * (y - cy);
  const d3 = (x - ax) * (cy - ay) - (cx - ax) * (y - ay);
  const neg = d1 < 0 || d2 < 0 || d3 < 0;
  const pos = d1 > 0 || d2 > 0 || d3 > 0;
  return !(neg && pos);
}

const WHITE = [255, 255, 255];
const BLACK = [0, 0, 0];
const RED = [220, 30, 30];
const BLUE = [30, 60, 200];
const YELLOW = [250, 215, 40];
const GREEN = [40, 160, 60];
const RAINBOW = [[228, 3, 3], [255, 140, 0], [255, 237, 0], [0, 128, 38], [0, 77, 255], [75, 0, 130], [117, 7, 135]];

const written = [];

// 1. Checkerboard, 8 x 8 squares of 28 px, greyscale PNG.
written.push(writePng('checkerboard-8x8-224.png',
  render(224, 224, (x, y) => ((Math.floor(x / 28) + Math.floor(y / 28)) % 2 ? BLACK : WHITE)), 0));

// 2. Horizontal gradient red -> blue, 16 bits per channel (exercises the 16-bit PNG path).
{
  const w = 224;
  const h = 224;
  const rgba16 = new Uint16Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c = mix(RED, BLUE, (x + 0.5) / w).map((v) => Math.round((v / 255) * 65535));
      rgba16.set([c[0], c[1], c[2], 65535], (y * w + x) * 4);
    }
  }
  const png = new PNG({ width: w, height: h, bitDepth: 16, colorType: 2, inputColorType: 6, inputHasAlpha: true });
  png.data = Buffer.from(rgba16.buffer); // pngjs reads 16-bit input in platform byte order
  const buf = PNG.sync.write(png, { bitDepth: 16, colorType: 2, inputColorType: 6, inputHasAlpha: true, deflateLevel: 9 });
  writeFileSync(join(OUT, 'gradient-red-to-blue-16bit-224.png'), buf);
  written.push({ name: 'gradient-red-to-blue-16bit-224.png', bytes: buf.length });
}

// 3. Red disc on white.
written.push(writePng('red-circle-on-white-224.png',
  render(224, 224, (x, y) => (inCircle(x, y, 112, 112, 72) ? RED : WHITE)), 2));

// 4. Blue square on yellow.
written.push(writePng('blue-square-on-yellow-224.png',
  render(224, 224, (x, y) => (x >= 52 && x < 172 && y >= 52 && y < 172 ? BLUE : YELLOW)), 2));

// 5. Green triangle on black.
written.push(writePng('green-triangle-on-black-160.png',
  render(160, 160, (x, y) => (inTriangle(x, y, [80, 20], [145, 135], [15, 135]) ? GREEN : BLACK)), 2));

// 6. Rainbow vertical stripes (seven colours).
written.push(writePng('rainbow-stripes-224.png', render(224, 224, (x) => RAINBOW[Math.min(6, Math.floor(x / 32))]), 2));

// 7. Concentric black and white rings, greyscale.
written.push(writePng('concentric-rings-128.png', render(128, 128, (x, y) => {
  const r = Math.hypot(x - 64, y - 64);
  return Math.floor(r / 8) % 2 ? BLACK : WHITE;
}), 0));

// 8. A simple scene: sky gradient, sun, hill, house with a red roof, door and window.
function scene(x, y) {
  const W = 224;
  if (x >= 70 && x < 150 && y >= 120 && y < 180) {
    if (x >= 100 && x < 120 && y >= 145) return [110, 70, 40]; // door
    if (x >= 80 && x < 96 && y >= 130 && y < 146) return [170, 220, 255]; // window
    if (x >= 124 && x < 140 && y >= 130 && y < 146) return [170, 220, 255]; // window
    return [235, 225, 200]; // wall
  }
  if (inTriangle(x, y, [110, 80], [160, 121], [60, 121])) return [190, 40, 40]; // roof
  const ground = 170 + 12 * Math.sin((x / W) * Math.PI * 2);
  if (y >= ground) return mix([70, 170, 70], [30, 110, 40], (y - ground) / (W - ground)); // grass
  if (inCircle(x, y, 180, 45, 22)) return [255, 220, 50]; // sun
  return mix([90, 150, 230], [200, 230, 255], y / 180); // sky
}
const sceneImg = render(224, 224, scene);
written.push(writePng('scene-house-sun-grass-224.png', sceneImg, 2));

// 9. Seeded uniform greyscale noise (no structure at all), 64 x 64.
{
  const rng = makeRng(42);
  const noise = new Uint8Array(64 * 64).map(() => rng.int(256));
  const img = { width: 64, height: 64, data: Buffer.alloc(64 * 64 * 4) };
  for (let i = 0; i < 64 * 64; i++) img.data.set([noise[i], noise[i], noise[i], 255], i * 4);
  written.push(writePng('noise-grey-64.png', img, 0));
}

// 10. RGBA: an orange disc on a fully transparent background (exercises the alpha channel).
written.push(writePng('orange-circle-transparent-96.png',
  render(96, 96, (x, y) => (inCircle(x, y, 48, 48, 36) ? [255, 140, 0, 255] : [0, 0, 0, 0])), 6));

// JPEG of the scene (exercises the JPEG decoder path), quality 90, baseline.
{
  const enc = jpeg.encode({ data: sceneImg.data, width: sceneImg.width, height: sceneImg.height }, 90);
  writeFileSync(join(OUT, 'scene-house-sun-grass-224.jpg'), enc.data);
  written.push({ name: 'scene-house-sun-grass-224.jpg', bytes: enc.data.length });
}

for (const w of written) console.log(`${w.name}\t${w.bytes}`);
console.log(`total\t${written.reduce((a, w) => a + w.bytes, 0)}`);
