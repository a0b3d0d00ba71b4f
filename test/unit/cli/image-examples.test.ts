import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listImages } from '../../../lib/cli/image-examples.js';
import type { RgbImage } from '../../../lib/data/image-decode.js';
import { cifarBytes, seededImages, writeClassFolders } from '../../helpers/image-datasets.js';

test('listImages: a CIFAR batch file, a folder of batches (max-examples across files) and class folders', () => {
  const root = mkdtempSync(join(tmpdir(), 'tfjs-lens-list-images-'));
  const first = seededImages(21, 5);
  const second = seededImages(22, 4);
  mkdirSync(join(root, 'bins'));
  writeFileSync(join(root, 'bins', 'data_batch_1.bin'), cifarBytes(first, 'cifar10'));
  writeFileSync(join(root, 'bins', 'data_batch_2.bin'), cifarBytes(second, 'cifar10'));
  writeFileSync(join(root, 'bins', 'batches.meta.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n');

  const one = listImages(join(root, 'bins', 'data_batch_2.bin'));
  assert.deepEqual(one.images.map((im) => im.label), second.map((im) => im.label));
  assert.deepEqual((one.sources[3]!() as RgbImage).rgb, second[3]!.rgb);

  const both = listImages(join(root, 'bins'), { maxExamples: 7 });
  assert.equal(both.images.length, 7);
  assert.deepEqual(both.images.map((im) => im.name), [...first.map((_, i) => `${join(root, 'bins', 'data_batch_1.bin')}#${i}`), ...[0, 1].map((i) => `${join(root, 'bins', 'data_batch_2.bin')}#${i}`)]);
  assert.deepEqual((both.sources[6]!() as RgbImage).rgb, second[1]!.rgb);
  assert.deepEqual(both.classes, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);

  writeClassFolders(join(root, 'folders'), first, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9']);
  const folders = listImages(join(root, 'folders'), { maxExamples: 2 });
  assert.equal(folders.images.length, 2);
  assert.ok(folders.sources.every((get) => typeof get() === 'string'));
  assert.throws(() => listImages(join(root, 'nothing-here')), /nothing-here: not found/);
});
