/**
 * Regression (webgpu tier): on the webgpu backend in Node a synchronous read (`dataSync`/`arraySync`) of a
 * tensor that lives on the GPU throws `ReferenceError: OffscreenCanvas is not defined` (tfjs-webgpu's
 * `readSync` stages through a browser canvas). `tfjs-lens heads`, `demo` and `patch` crashed that way:
 * token-id checks of a tensor input already used by an earlier pass (nn/token-input.ts), the per-half
 * statistics of `repeatedSequenceStats`, the patching metrics and the demo's pattern read. They read
 * asynchronously now; this runs those paths twice on the same token tensor and checks the induction scores
 * against the cached patterns read back asynchronously. Skipped where the backend (default webgpu, or the
 * tier's) is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { BackendUnavailableError } from '../../lib/errors.js';
import { loadModel } from '../../lib/nn/load.js';
import { inductionScores, repeatedRandomTokens, repeatedSequenceStats } from '../../lib/lens/attention.js';
import { patchScan } from '../../lib/lens/patching.js';
import { logitDiffMetric } from '../../lib/lens/metrics.js';
import { topKPerLayer } from '../../lib/lens/topk.js';
import { ROOT } from '../helpers/fixtures.js';
import { testBackend } from '../helpers/backend.js';

test('head scores, repeated-sequence stats and patching read asynchronously (no OffscreenCanvas on webgpu in Node)', async (t) => {
  const backend = testBackend('webgpu');
  try {
    t.diagnostic((await setBackend(backend)).detail);
  } catch (err) {
    if (err instanceof BackendUnavailableError) return t.skip(err.message.split('\n')[0]);
    throw err;
  }
  const model = await loadModel(join(ROOT, 'weights', 'tiny-gpt2'), { modelType: 'gpt2' });
  const N = 6;
  const tokens = repeatedRandomTokens({ nTokens: N, batch: 2, vocab: model.cfg.dVocab, seed: 1 });
  try {
    const before = tf.memory().numTensors;
    const first = await inductionScores(model, tokens);
    const again = await inductionScores(model, tokens); // the token tensor now lives on the device
    assert.deepEqual(Array.from(again.data), Array.from(first.data));
    // reference: induction score of every head of layer 1 from its cached pattern, on the host
    const name = 'blocks.1.attn.hook_pattern';
    const { output, cache } = await model.runWithCache(tokens, { namesFilter: [name] });
    const pattern = (await cache.get(name).data()) as Float32Array;
    const [B, H, T] = cache.get(name).shape as [number, number, number, number];
    output.dispose();
    cache.dispose();
    for (let h = 0; h < H; h++) {
      let sum = 0;
      let count = 0;
      for (let b = 0; b < B; b++) for (let q = N - 1; q <= 2 * N; q++) {
        sum += pattern[((b * H + h) * T + q) * T + q - N + 1]!;
        count++;
      }
      const got = first.data[1 * H + h]!;
      assert.ok(Math.abs(got - sum / count) <= 1e-5, `L1H${h}: ${got} vs ${sum / count}`);
    }
    const stats = await repeatedSequenceStats(model, tokens);
    assert.ok(stats.logProbSecondHalf > stats.logProbFirstHalf, JSON.stringify(stats));
    const ids = await tokens.array();
    const corrupt = [ids[0]!.map((id, i) => (i === 3 ? (id + 1) % model.cfg.dVocab : id))];
    const scan = await patchScan(model, [ids[0]!], corrupt, { hook: 'resid_pre', layers: [0], metric: logitDiffMetric(ids[0]![N]!, ids[0]![N + 1]!) });
    // patching every position of block 0's input restores the clean run at the changed position exactly
    assert.ok(Math.abs(scan.values[3]! - scan.cleanMetric!) <= 1e-4 * Math.max(1, Math.abs(scan.cleanMetric!)), `${scan.values[3]} vs ${scan.cleanMetric}`);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    tokens.dispose();
    model.dispose();
  }
});

test("the explorer's server answers its lens and pattern routes on the tier's backend (webgpu by default)", async (t) => {
  const backend = testBackend('webgpu');
  const { startExploreServer } = await import('../../lib/explore/server.js');
  const { ensureExploreApp, jobResult } = await import('../helpers/explore.js');
  ensureExploreApp();
  let server;
  try {
    server = await startExploreServer({ backend });
  } catch (err) {
    if (err instanceof BackendUnavailableError) return t.skip(err.message.split('\n')[0]);
    throw err;
  }
  try {
    t.diagnostic(server.model.backend);
    const text = 'The capital city of France is';
    const ids = server.model.tokenizer.encode(text);
    const grid = await jobResult<{ top: { id: number; prob: number }[][][] }>(server.url, '/api/lens', { text, k: 3 });
    const ref = await topKPerLayer(server.model.model, [ids], { k: 3, includeEmbedding: true });
    assert.deepEqual(grid.top.flat(2).map((e) => e.id), Array.from(ref.ids));
    const p = await jobResult<{ pattern: number[][] }>(server.url, '/api/attention/pattern', { text, layer: 1, head: 1 });
    for (const row of p.pattern) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  } finally {
    await server.close();
  }
});
