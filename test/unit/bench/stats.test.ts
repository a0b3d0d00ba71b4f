import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize, throughput, medianRatio } from '../../../lib/bench/stats.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

test('summarize: odd count, unsorted input', () => {
  assert.deepEqual(summarize([5, 1, 3]), { n: 3, min: 1, median: 3, max: 5, mean: 3 });
});

test('summarize: even count takes the mean of the two middle values', () => {
  const s = summarize([4, 10, 1, 2]);
  assert.equal(s.median, 3);
  assert.equal(s.min, 1);
  assert.equal(s.max, 10);
  assert.equal(s.mean, 17 / 4);
});

test('summarize: one sample, and the input is not reordered', () => {
  const samples = [9, 7];
  summarize(samples);
  assert.deepEqual(samples, [9, 7]);
  assert.deepEqual(summarize([2.5]), { n: 1, min: 2.5, median: 2.5, max: 2.5, mean: 2.5 });
});

test('summarize rejects empty and non-finite samples', () => {
  assert.throws(() => summarize([]), InvalidArgumentError);
  assert.throws(() => summarize([1, NaN]), InvalidArgumentError);
  assert.throws(() => summarize([Infinity]), InvalidArgumentError);
});

test('throughput converts each timing to units per second', () => {
  // 64 tokens in 100 ms, 200 ms, 400 ms → 640, 320, 160 tokens/s.
  const t = throughput([200, 100, 400], 64);
  assert.equal(t.min, 160);
  assert.equal(t.median, 320);
  assert.equal(t.max, 640);
  assert.ok(Math.abs(t.mean - 1120 / 3) < 1e-9);
});

test('medianRatio divides medians', () => {
  assert.equal(medianRatio(summarize([3, 6, 9]), summarize([2, 3, 4])), 2);
});
