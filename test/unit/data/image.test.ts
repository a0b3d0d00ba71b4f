import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { setBackend } from '../../../lib/backend/index.js';
import { vitPixelValues, vitPixelValuesBatch, vitPixelArray } from '../../../lib/data/image.js';
import { imagenetLabels } from '../../../lib/data/imagenet-labels.js';
import { InvalidArgumentError, InvalidInputError } from '../../../lib/errors.js';
import { testBackend } from '../../helpers/backend.js';

before(async () => {
  await setBackend(testBackend('cpu'));
});

function flatPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const png = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) png.data.set([...rgb, 255], p * 4);
  return PNG.sync.write(png);
}

test('vitPixelValues: flat image → (v/255 − mean)/std per channel, [1,3,S,S]', async () => {
  const before = tf.memory().numTensors;
  const bytes = flatPng(10, 6, [255, 0, 51]);
  const t = vitPixelValues(bytes, { size: 4 });
  assert.deepEqual(t.shape, [1, 3, 4, 4]);
  assert.equal(t.dtype, 'float32');
  const data = await t.data();
  const want = [1, -1, (51 / 255 - 0.5) / 0.5];
  for (let c = 0; c < 3; c++) for (let p = 0; p < 16; p++) assert.ok(Math.abs(data[c * 16 + p]! - want[c]!) < 1e-6);
  t.dispose();
  const custom = vitPixelValues(bytes, { size: { height: 2, width: 3 }, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], rescale: 1 / 255 });
  assert.deepEqual(custom.shape, [1, 3, 2, 3]);
  const c0 = (await custom.data())[0]!;
  assert.ok(Math.abs(c0 - (1 - 0.485) / 0.229) < 1e-6);
  custom.dispose();
  assert.equal(tf.memory().numTensors, before, 'vitPixelValues leaked tensors');
});

test('vitPixelValuesBatch: stacks in order; paths and bytes mixed; no leaks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-img-'));
  const redPath = join(dir, 'red.png');
  writeFileSync(redPath, flatPng(5, 5, [255, 0, 0]));
  const before = tf.memory().numTensors;
  for (let round = 0; round < 2; round++) {
    const t = vitPixelValuesBatch([redPath, flatPng(3, 8, [0, 0, 255])], { size: 2 });
    assert.deepEqual(t.shape, [2, 3, 2, 2]);
    const d = await t.data();
    assert.deepEqual([...d.subarray(0, 12)], [1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1]);
    assert.deepEqual([...d.subarray(12, 24)], [-1, -1, -1, -1, -1, -1, -1, -1, 1, 1, 1, 1]);
    t.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual([...vitPixelArray(redPath, { size: 1 })], [1, -1, -1]);
});

test('vitPixelValues: missing file, unknown format and bad options throw typed errors', () => {
  const before = tf.memory().numTensors;
  assert.throws(() => vitPixelValues('/nonexistent/dir/cat.png', { size: 8 }), (err: unknown) => {
    assert.ok(err instanceof InvalidInputError);
    assert.match(err.message, /^\/nonexistent\/dir\/cat\.png: image file not found/);
    return true;
  });
  assert.throws(() => vitPixelValues(new TextEncoder().encode('P6\n2 2\n255\n'), { size: 8 }), InvalidInputError);
  assert.throws(() => vitPixelValues(tmpdir(), { size: 8 }), /is a directory/);
  const png = flatPng(2, 2, [1, 2, 3]);
  assert.throws(() => vitPixelValues(png, { size: 0 }), InvalidArgumentError);
  assert.throws(() => vitPixelValues(png, { size: 4, mean: [0.5] }), InvalidArgumentError);
  assert.throws(() => vitPixelValues(png, { size: 4, std: [1, 0, 1] }), InvalidArgumentError);
  assert.throws(() => vitPixelValuesBatch([], { size: 4 }), InvalidArgumentError);
  assert.equal(tf.memory().numTensors, before);
});

test('imagenetLabels: the 1000 ILSVRC-2012 names in index order', () => {
  const labels = imagenetLabels();
  assert.equal(labels.length, 1000);
  assert.equal(labels[0], 'tench, Tinca tinca');
  assert.equal(labels[1], 'goldfish, Carassius auratus');
  assert.equal(labels[207], 'golden retriever');
  assert.equal(labels[281], 'tabby, tabby cat');
  assert.equal(labels[409], 'analog clock');
  assert.equal(labels[999], 'toilet tissue, toilet paper, bathroom tissue');
  assert.ok(labels.every((l) => typeof l === 'string' && l.length > 0));
  labels[0] = 'changed';
  assert.equal(imagenetLabels()[0], 'tench, Tinca tinca', 'returns a copy');
});
