import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resizeBilinearPil } from '../../../lib/data/pil-resize.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

const MODES = ['pillow', 'torchvision'] as const;

test('resizeBilinearPil: identity size returns an equal copy', () => {
  const rgb = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256);
  for (const fixedPoint of MODES) {
    const out = resizeBilinearPil(rgb, 5, 3, 5, 3, { fixedPoint });
    assert.deepEqual([...out], [...rgb]);
    assert.notEqual(out, rgb);
  }
});

test('resizeBilinearPil: upscaling 2×2 → 4×4 by hand (weights 1, ¾·¼, ¼·¾, 1; rounding per pass)', () => {
  // One channel. Horizontal pass, per row [a, b] → [a, .75a+.25b, .25a+.75b, b]:
  //   [0, 100] → [0, 25, 75, 100];  [200, 40] → [200, 160, 80, 40]
  // Vertical pass with the same weights on those rows:
  //   row1 = .75·r0 + .25·r1 = [50, 58.75, 76.25, 85] → [50, 59, 76, 85]
  //   row2 = .25·r0 + .75·r1 = [150, 126.25, 78.75, 55] → [150, 126, 79, 55]
  const input = Uint8Array.from([0, 100, 200, 40]);
  const expected = [0, 25, 75, 100, 50, 59, 76, 85, 150, 126, 79, 55, 200, 160, 80, 40];
  for (const fixedPoint of MODES) assert.deepEqual([...resizeBilinearPil(input, 2, 2, 4, 4, { fixedPoint })], expected, fixedPoint);
});

test('resizeBilinearPil: downscaling is antialiased (triangle stretched by the scale)', () => {
  // 4 → 2, scale 2, support 2. Output 0 centred at 1 reads x = 0,1,2 with triangle((x+0.5−1)/2) = .75,.75,.25
  // → weights 3/7, 3/7, 1/7: (3·10 + 3·20 + 30)/7 = 17.14 → 17. Output 1 centred at 3 reads x = 1,2,3 with
  // .25,.75,.75 → (20 + 3·30 + 3·40)/7 = 32.86 → 33. (Plain bilinear would give 15 and 35.)
  const input = Uint8Array.from([10, 20, 30, 40]);
  for (const fixedPoint of MODES) {
    assert.deepEqual([...resizeBilinearPil(input, 4, 1, 2, 1, { fixedPoint })], [17, 33], fixedPoint);
    assert.deepEqual([...resizeBilinearPil(input, 1, 4, 1, 2, { fixedPoint })], [17, 33], fixedPoint);
  }
});

test('resizeBilinearPil: channels are independent and constant images stay constant', () => {
  const w = 7;
  const h = 5;
  const rgb = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) rgb.set([13, 128, 250], p * 3);
  for (const fixedPoint of MODES) {
    for (const [ow, oh] of [[3, 2], [11, 9], [7, 2], [1, 1]] as const) {
      const out = resizeBilinearPil(rgb, w, h, ow, oh, { fixedPoint });
      assert.equal(out.length, ow * oh * 3);
      for (let p = 0; p < ow * oh; p++) assert.deepEqual([...out.subarray(p * 3, p * 3 + 3)], [13, 128, 250], `${fixedPoint} ${ow}×${oh}`);
    }
  }
});

test('resizeBilinearPil: pillow and torchvision fixed point agree within one level', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const rgb = Uint8Array.from({ length: 50 * 40 * 3 }, rand);
  const a = resizeBilinearPil(rgb, 50, 40, 32, 32, { fixedPoint: 'pillow' });
  const b = resizeBilinearPil(rgb, 50, 40, 32, 32, { fixedPoint: 'torchvision' });
  let differ = 0;
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1, `index ${i}: ${a[i]} vs ${b[i]}`);
    if (a[i] !== b[i]) differ++;
  }
  assert.ok(differ < a.length / 10, `${differ} of ${a.length} differ`);
});

test('resizeBilinearPil: bad sizes and buffers throw InvalidArgumentError', () => {
  assert.throws(() => resizeBilinearPil(new Uint8Array(12), 2, 2, 0, 2), InvalidArgumentError);
  assert.throws(() => resizeBilinearPil(new Uint8Array(12), 2, 2, 2.5, 2), InvalidArgumentError);
  assert.throws(() => resizeBilinearPil(new Uint8Array(13), 2, 2, 4, 4), /does not hold a 2×2 image/);
  assert.throws(() => resizeBilinearPil(new Uint8Array(12), 2, 2, 4, 4, { fixedPoint: 'x' as 'pillow' }), InvalidArgumentError);
});
