import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchRuns, readBenchRuns, BENCH_SUITE_SCHEMA, type BenchResult } from '../../../lib/bench/schema.js';
import { compareResults, pairResults, sameWorkload } from '../../../lib/bench/compare.js';
import { InvalidInputError } from '../../../lib/errors.js';

const stats = (median: number) => ({ n: 3, min: median * 0.9, median, max: median * 1.2, mean: median });

/** A hand-written result of the documented shape (as the PyTorch scripts write it). */
function sample(tool: BenchResult['tool'], scale: number): BenchResult {
  return {
    schema: 'tfjs-lens-bench/1',
    tool,
    date: '2026-01-01T00:00:00.000Z',
    host: { hostname: 'h', platform: 'linux', arch: 'x64', cpu: 'cpu', cores: 2, memoryBytes: 1e9 },
    backend: tool === 'pytorch' ? 'cuda' : 'wasm',
    device: 'test',
    versions: { node: 'v20' },
    model: { name: 'gpt2', family: 'gpt2', source: 'random', params: 124e6, config: { model_type: 'gpt2', n_layer: 12, n_embd: 768, n_head: 12, vocab_size: 50257 } },
    settings: { batch: 1, seq: 64, warmup: 1, iters: 3, dtype: 'float32', seed: 0 },
    tokensPerItem: 64,
    forward: { ms: stats(100 * scale), tokensPerSecond: stats(640 / scale), itemsPerSecond: stats(10 / scale) },
    cache: [
      { mode: 'none', names: 0, bytes: 0, ms: stats(100 * scale), tokensPerSecond: stats(640 / scale), slowdown: 1, peakBytes: null },
      { mode: 'all', names: 200, bytes: 1e6, ms: stats(150 * scale), tokensPerSecond: stats(400 / scale), slowdown: 1.5, peakBytes: 2e6 },
    ],
    blocks: [
      {
        name: 'blocks.0', tokens: 64, ms: stats(8 * scale), kernelMs: null, tokensPerSecond: stats(8000 / scale),
        parts: [
          { part: 'attn', ms: stats(3 * scale), kernelMs: null, tokensPerSecond: stats(1) },
          { part: 'mlp', ms: stats(5 * scale), kernelMs: null, tokensPerSecond: stats(1) },
        ],
      },
    ],
    memory: { weightsBytes: 5e8, peakBytes: 6e8, peakActivationBytes: 1e8, rssPeakBytes: 1e9 },
    timing: { method: 'replay', syncOverheadMs: null },
  };
}

test('a result of the documented shape validates, alone and in a suite', () => {
  const ours = sample('tfjs-lens', 2);
  assert.equal(parseBenchRuns(JSON.parse(JSON.stringify(ours))).length, 1);
  const suite = { schema: BENCH_SUITE_SCHEMA, date: ours.date, title: 't', runs: [ours, sample('pytorch', 1)] };
  assert.deepEqual(parseBenchRuns(suite).map((r) => r.tool), ['tfjs-lens', 'pytorch']);
});

test('invalid results are rejected with the field named', () => {
  const bad = { ...sample('tfjs-lens', 1), settings: { batch: 0 } };
  assert.throws(() => parseBenchRuns(bad, 'bad.json'), (err: unknown) => err instanceof InvalidInputError && /bad\.json/.test(err.message) && /settings/.test(err.message));
  assert.throws(() => parseBenchRuns({ schema: 'other' }), InvalidInputError);
  assert.throws(() => parseBenchRuns({ ...sample('tfjs-lens', 1), cache: [{ mode: 'everything' }] }), InvalidInputError);
});

test('readBenchRuns reads files and names unreadable ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-bench-'));
  try {
    writeFileSync(join(dir, 'r.json'), JSON.stringify(sample('pytorch', 1)));
    writeFileSync(join(dir, 'broken.json'), '{');
    assert.equal(readBenchRuns(join(dir, 'r.json'))[0]!.tool, 'pytorch');
    assert.throws(() => readBenchRuns(join(dir, 'broken.json')), InvalidInputError);
    assert.throws(() => readBenchRuns(join(dir, 'missing.json')), InvalidInputError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('comparison rows are ours / reference median ratios', () => {
  const ours = sample('tfjs-lens', 2);
  const ref = sample('pytorch', 1);
  assert.ok(sameWorkload(ours, ref));
  const rows = compareResults(ours, ref);
  assert.deepEqual(rows.map((r) => r.what), ['forward', 'cache all', 'blocks.0', 'blocks.0 attn', 'blocks.0 mlp']);
  for (const r of rows) assert.equal(r.ratio, 2);
  assert.equal(pairResults([ours], [ref])[0]![1], ref);
  const otherShape = { ...ref, settings: { ...ref.settings, seq: 128 } };
  assert.equal(sameWorkload(ours, otherShape), false);
  assert.equal(pairResults([ours], [otherShape]).length, 0);
});
