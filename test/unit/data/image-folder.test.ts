import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { listImageFolder, readFolderImage, readSynsetList } from '../../../lib/data/image-folder.js';
import { InvalidInputError } from '../../../lib/errors.js';
import { ROOT } from '../../helpers/fixtures.js';
import { seededImages, writeClassFolders } from '../../helpers/image-datasets.js';

test('listImageFolder: class folders sorted by name, files sorted within; pixels decode to what was written', () => {
  const root = mkdtempSync(join(tmpdir(), 'tfjs-lens-imgfolder-'));
  const classes = ['zebra', 'Ant', 'bee'];
  const images = seededImages(5, 9, 3);
  writeClassFolders(root, images, classes);
  const ds = listImageFolder(root);
  const sorted = ['Ant', 'bee', 'zebra']; // code-point order, as torchvision's ImageFolder sorts
  assert.deepEqual(ds.classes, sorted);
  const expected = sorted.flatMap((cls) => images.map((im, i) => ({ im, i })).filter(({ im }) => classes[im.label] === cls));
  assert.deepEqual(ds.items.map((it) => ds.classes[it.label]), expected.map(({ im }) => classes[im.label]));
  ds.items.forEach((it, n) => {
    assert.ok(it.path.endsWith(`${String(expected[n]!.i).padStart(4, '0')}.png`), it.path);
    assert.deepEqual(readFolderImage(it).rgb, expected[n]!.im.rgb);
  });
});

test('listImageFolder with a synset list: labels = line order; folders missing from the list are errors', () => {
  const root = mkdtempSync(join(tmpdir(), 'tfjs-lens-synsets-'));
  const images = seededImages(6, 6, 2);
  writeClassFolders(root, images, ['n02', 'n01']);
  const list = join(root, '..', `${root.split('/').pop()}-synsets.txt`);
  writeFileSync(list, 'n02 second class, listed first\nn03 absent\nn01 first\n');
  assert.deepEqual(readSynsetList(list), ['n02', 'n03', 'n01']);
  const ds = listImageFolder(root, { synsets: list });
  assert.deepEqual(ds.classes, ['n02', 'n03', 'n01']);
  assert.deepEqual(ds.items.map((it) => it.label), [...images.filter((im) => im.label === 0).map(() => 0), ...images.filter((im) => im.label === 1).map(() => 2)]);
  writeFileSync(list, 'n02\n');
  assert.throws(() => listImageFolder(root, { synsets: list }), (e: unknown) => e instanceof InvalidInputError && /class folder 'n01' is not in the synset list/.test(e.message));
  writeFileSync(list, 'n02\nn01 x\nn02 again\n');
  assert.throws(() => readSynsetList(list), /synsets\.txt:3: synset 'n02' is listed twice/);
});

test('listImageFolder reads the shipped data/images as a flat, unlabelled folder', () => {
  const dir = join(ROOT, 'data', 'images');
  const ds = listImageFolder(dir);
  const files = readdirSync(dir).filter((n) => /\.(png|jpe?g)$/i.test(n)).sort();
  assert.equal(ds.items.length, files.length);
  assert.ok(files.length >= 10);
  assert.deepEqual(ds.classes, []);
  assert.ok(ds.items.every((it) => it.label === -1));
  const gradient = ds.items.find((it) => it.path.endsWith('gradient-red-to-blue-16bit-224.png'))!;
  const png = PNG.sync.read(readFileSync(gradient.path), { skipRescale: true });
  const rgb = readFolderImage(gradient).rgb;
  // 16-bit PNG: the decoder keeps the high byte; pngjs with skipRescale gives the 16-bit values.
  for (const p of [0, 100, 224 * 224 - 1]) assert.equal(rgb[p * 3], png.data[p * 4]! >> 8);
});

test('listImageFolder: missing folder, empty folder, loose image next to class folders, empty class folder', () => {
  const root = mkdtempSync(join(tmpdir(), 'tfjs-lens-imgfolder-bad-'));
  assert.throws(() => listImageFolder(join(root, 'nope')), (e: unknown) => e instanceof InvalidInputError && /nope: folder not found/.test(e.message));
  assert.throws(() => listImageFolder(root), /holds no images/);
  writeClassFolders(root, seededImages(7, 2, 1), ['cls']);
  writeFileSync(join(root, 'loose.png'), 'x');
  assert.throws(() => listImageFolder(root), /loose\.png: is an image next to class folders/);
  rmSync(join(root, 'loose.png'));
  mkdirSync(join(root, 'empty'));
  writeFileSync(join(root, 'empty', 'notes.txt'), 'x');
  assert.throws(() => listImageFolder(root), (e: unknown) => e instanceof InvalidInputError && /empty: class folder 'empty' holds no images/.test(e.message));
});
