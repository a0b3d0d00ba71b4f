import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { cifarBatchFiles, cifarImage, readCifarBatch } from '../../../lib/data/cifar.js';
import { vitPixelValuesBatch } from '../../../lib/data/image.js';
import { InvalidInputError } from '../../../lib/errors.js';
import { cifarBytes, pngBytes, seededImages } from '../../helpers/image-datasets.js';
import { testBackend } from '../../helpers/backend.js';

before(async () => {
  await setBackend(testBackend('cpu'));
});

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

test('readCifarBatch (CIFAR-10): labels, class names and every pixel equal what was written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cifar10-'));
  const images = seededImages(1, 7);
  writeFileSync(join(dir, 'data_batch_1.bin'), cifarBytes(images, 'cifar10'));
  writeFileSync(join(dir, 'batches.meta.txt'), `${CLASSES.join('\n')}\n\n`);
  const batch = readCifarBatch(join(dir, 'data_batch_1.bin'));
  assert.equal(batch.variant, 'cifar10');
  assert.equal(batch.count, 7);
  assert.deepEqual([...batch.labels], images.map((im) => im.label));
  assert.equal(batch.coarseLabels, undefined);
  assert.deepEqual(batch.classes, CLASSES);
  images.forEach((im, i) => {
    const got = cifarImage(batch, i);
    assert.deepEqual([got.width, got.height], [32, 32]);
    assert.deepEqual(got.rgb, im.rgb, `image ${i}`);
  });
  assert.deepEqual(cifarBatchFiles(dir), [join(dir, 'data_batch_1.bin')]);
});

test('readCifarBatch (CIFAR-100): coarse and fine labels; variant from the name or the size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cifar100-'));
  const images = seededImages(2, 5, 100);
  writeFileSync(join(dir, 'train.bin'), cifarBytes(images, 'cifar100'));
  writeFileSync(join(dir, 'renamed.dat'), cifarBytes(images, 'cifar100'));
  for (const file of ['train.bin', 'renamed.dat']) {
    const batch = readCifarBatch(join(dir, file));
    assert.equal(batch.variant, 'cifar100', file);
    assert.deepEqual([...batch.labels], images.map((im) => im.label));
    assert.deepEqual([...batch.coarseLabels!], images.map((im) => im.coarse));
    assert.deepEqual(cifarImage(batch, 4).rgb, images[4]!.rgb);
  }
});

test('readCifarBatch: a truncated file, a label out of range and a wrong variant are InvalidInputErrors naming the file/record', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cifar-bad-'));
  const bytes = cifarBytes(seededImages(3, 3), 'cifar10');
  writeFileSync(join(dir, 'data_batch_1.bin'), bytes.subarray(0, bytes.length - 1));
  assert.throws(() => readCifarBatch(join(dir, 'data_batch_1.bin')), (e: unknown) => e instanceof InvalidInputError && /9218 bytes is not a whole number of CIFAR-10 records \(3073 bytes each/.test(e.message));
  const bad = bytes.slice();
  bad[2 * 3073] = 12;
  writeFileSync(join(dir, 'test_batch.bin'), bad);
  assert.throws(() => readCifarBatch(join(dir, 'test_batch.bin')), (e: unknown) => e instanceof InvalidInputError && /test_batch\.bin record 2: label byte 12 is outside 0 … 9/.test(e.message));
  assert.throws(() => readCifarBatch(join(dir, 'test_batch.bin'), { variant: 'cifar100' }), /not a whole number of CIFAR-100 records/);
  writeFileSync(join(dir, 'x.bin'), new Uint8Array(100));
  assert.throws(() => readCifarBatch(join(dir, 'x.bin')), /cannot tell CIFAR-10 from CIFAR-100 records \(100 bytes is a multiple of neither/);
});

test('vitPixelValuesBatch of CIFAR records equals that of the same pixels as PNG files (decoded by pngjs)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cifar-png-'));
  const images = seededImages(4, 3);
  writeFileSync(join(dir, 'data_batch_1.bin'), cifarBytes(images, 'cifar10'));
  const batch = readCifarBatch(join(dir, 'data_batch_1.bin'));
  const pngs = images.map((im, i) => {
    const path = join(dir, `${i}.png`);
    writeFileSync(path, pngBytes(im.rgb));
    return path;
  });
  const before = tf.memory().numTensors;
  for (const size of [32, 48]) {
    const fromCifar = vitPixelValuesBatch(images.map((_, i) => cifarImage(batch, i)), { size });
    const fromPng = vitPixelValuesBatch(pngs, { size });
    assert.deepEqual(await fromCifar.data(), await fromPng.data(), `size ${size}`);
    tf.dispose([fromCifar, fromPng]);
  }
  assert.throws(() => vitPixelValuesBatch([{ width: 2, height: 2, rgb: new Uint8Array(11) }], { size: 2 }), /width·height·3 = 12 bytes of rgb, got 11/);
  assert.equal(tf.memory().numTensors, before, 'leaked tensors');
});
