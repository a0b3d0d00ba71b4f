/**
 * JPEG decoding against Pillow (libjpeg-turbo, fancy upsampling, islow IDCT) on the files that
 * scripts/fixtures/make_jpeg_refs.py writes to test/fixtures/jpeg/: every chroma subsampling within 1 level
 * (measured: 0), progressive and grayscale files, and the 8 EXIF orientations as `exif_transpose` applies them
 * (JPEG and PNG).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { decodeImage, jpegExifOrientation } from '../../../lib/data/image-decode.js';
import { vitPixelArray, vitPixelValues } from '../../../lib/data/image.js';
import { InvalidInputError } from '../../../lib/errors.js';
import { setBackend } from '../../../lib/backend/index.js';
import { testBackend } from '../../helpers/backend.js';
import { ROOT } from '../../helpers/fixtures.js';

const DIR = join(ROOT, 'test', 'fixtures', 'jpeg');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { images: Record<string, { width: number; height: number }> };

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function check(name: string, ext = 'jpg'): number {
  const img = decodeImage(readFileSync(join(DIR, `${name}.${ext}`)), `${name}.${ext}`);
  const { width, height } = manifest.images[name]!;
  assert.deepEqual([img.width, img.height], [width, height], name);
  return maxDiff(img.rgb, readFileSync(join(DIR, `${name}.rgb`)));
}

for (const name of ['sub-420', 'sub-422', 'sub-444', 'progressive-420', 'gray']) {
  test(`decodeImage: ${name}.jpg within 1 level of Pillow`, () => {
    const diff = check(name);
    console.log(`${name}: max |diff| from Pillow ${diff}`);
    assert.ok(diff <= 1, `${name}: max |diff| ${diff}`);
  });
}

test('decodeImage: EXIF orientations 1–8 as PIL.ImageOps.exif_transpose applies them', () => {
  for (let o = 1; o <= 8; o++) {
    const bytes = readFileSync(join(DIR, `orient-${o}.jpg`));
    assert.equal(jpegExifOrientation(bytes), o);
    const diff = check(`orient-${o}`);
    assert.ok(diff <= 1, `orientation ${o}: max |diff| ${diff}`);
  }
});

test('decodeImage: a PNG eXIf chunk\'s orientations 1–8 as exif_transpose applies them', () => {
  for (let o = 1; o <= 8; o++) {
    const diff = check(`png-orient-${o}`, 'png');
    assert.equal(diff, 0, `PNG orientation ${o}: max |diff| ${diff}`);
  }
});

test('jpegExifOrientation: no EXIF, big-endian TIFF, out-of-range values', () => {
  assert.equal(jpegExifOrientation(readFileSync(join(DIR, 'sub-444.jpg'))), 1);
  const exif = (tiff: number[]) => {
    const payload = [...Buffer.from('Exif\0\0', 'latin1'), ...tiff];
    const len = payload.length + 2;
    return Uint8Array.from([0xff, 0xd8, 0xff, 0xe1, len >> 8, len & 0xff, ...payload, 0xff, 0xd9]);
  };
  // 'MM', 42, IFD0 at 8: one entry, tag 0x0112 SHORT count 1 value v.
  const mm = (v: number) => exif([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, v, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(jpegExifOrientation(mm(6)), 6);
  assert.equal(jpegExifOrientation(mm(9)), 1);
  assert.equal(jpegExifOrientation(mm(0)), 1);
  assert.equal(jpegExifOrientation(exif([0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0])), 8);
  assert.equal(jpegExifOrientation(exif([0x49, 0x49, 42])), 1); // truncated TIFF header
});

test('decodeImage: truncated JPEG data is refused as Pillow refuses it; the decoder recovers after errors', () => {
  const good = readFileSync(join(DIR, 'sub-420.jpg'));
  assert.throws(() => decodeImage(good.subarray(0, 1200), 'cut.jpg'), (err: unknown) => err instanceof InvalidInputError && /^cut\.jpg: truncated JPEG/.test(err.message));
  assert.throws(() => decodeImage(good.subarray(0, 100), 'head.jpg'), (err: unknown) => err instanceof InvalidInputError && /^head\.jpg: corrupt or unsupported JPEG \(/.test(err.message));
  for (let i = 0; i < 3; i++) assert.throws(() => decodeImage(Uint8Array.from([0xff, 0xd8, 0xff, 0, 1, 2, 3])), InvalidInputError);
  assert.equal(check('sub-420'), 0);
  assert.throws(() => decodeImage(readFileSync(join(DIR, 'cmyk.jpg')), 'cmyk.jpg'), (err: unknown) => err instanceof InvalidInputError && /^cmyk\.jpg: CMYK and YCCK JPEGs are not supported/.test(err.message));
});

test('vitPixelValues: a 4:2:0 JPEG gives the pixel values of Pillow\'s decoded pixels', async () => {
  await setBackend(testBackend('cpu'));
  const ref = readFileSync(join(DIR, 'sub-420.rgb'));
  const { width, height } = manifest.images['sub-420']!;
  // The same pixels as a raw 8-bit RGB PNG (no filter, stored deflate via pngjs).
  const { PNG } = await import('pngjs');
  const png = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) png.data.set([ref[p * 3]!, ref[p * 3 + 1]!, ref[p * 3 + 2]!, 255], p * 4);
  const want = vitPixelArray(PNG.sync.write(png), { size: 32 });
  const before = tf.memory().numTensors;
  const t = vitPixelValues(readFileSync(join(DIR, 'sub-420.jpg')), { size: 32 });
  assert.deepEqual(t.shape, [1, 3, 32, 32]);
  assert.deepEqual([...(await t.data())], [...want]);
  t.dispose();
  assert.equal(tf.memory().numTensors, before);
});
