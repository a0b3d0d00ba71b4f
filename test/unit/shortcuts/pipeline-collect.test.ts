import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { residName } from '../../../lib/nn/lens-model.js';
import { createRng } from '../../../lib/math/rng.js';
import { applyLinearMap, r2ScoreId, shortcutKey } from '../../../lib/linreg/index.js';
import {
  collectStates, fitShortcutsFromStates, r2Matrices, sampleShortcutPositions, ShortcutAccumulator, submoduleKey,
  type CollectedStates, type MatMaps, type StateBatch,
} from '../../../lib/shortcuts/index.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

/** Random sentences: lengths uniform in [minLen, maxLen], ids uniform in [0, vocab). */
function randomSentences(seed: number, count: number, vocab: number, minLen: number, maxLen: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => Array.from({ length: minLen + rng.uniformInt(maxLen - minLen + 1) }, () => rng.uniformInt(vocab)));
}

/** max |a − b| / max(1, max |b|). */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

async function gpt2Tiny(): Promise<HookedGPT2> {
  await setBackend(testBackend('wasm'), { verbose: false });
  return (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
}

test('sampleShortcutPositions: seeded, uniform on 0..n−1, one per sentence', () => {
  const sentences = Array.from({ length: 6000 }, () => [1, 2, 3, 4, 5]);
  const a = sampleShortcutPositions(sentences, { seed: 7 });
  const b = sampleShortcutPositions(sentences, { seed: 7 });
  const c = sampleShortcutPositions(sentences, { seed: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const counts = [0, 0, 0, 0, 0];
  for (const t of a) counts[t]!++;
  // χ² with 4 degrees of freedom; 18.47 is the 0.1 % quantile.
  const chi2 = counts.reduce((s, k) => s + (k - 1200) ** 2 / 1200, 0);
  assert.ok(chi2 < 18.47, `chi2 ${chi2} counts ${counts}`);
  const mixed = sampleShortcutPositions([[9], [1, 2], new Array(40).fill(3)], { seed: 1 });
  assert.equal(mixed[0], 0);
  assert.ok(mixed[1]! <= 1 && mixed[2]! <= 39);
  assert.throws(() => sampleShortcutPositions([[1], []], { seed: 1 }), InvalidArgumentError);
});

test('collectStates: batched right-padded states equal one-by-one runWithCache states (gpt2-tiny), registries 3 = 0 + 2 and 6 = 3 + 5 exactly', async () => {
  const model = await gpt2Tiny();
  const L = model.nLayers;
  const d = model.cfg.dModel;
  const sentences = randomSentences(3, 11, model.cfg.dVocab, 2, 20);
  const positions = sampleShortcutPositions(sentences, { seed: 5 });
  const before = tf.memory().numTensors;
  const batches: StateBatch[] = [];
  const collected = await collectStates(model, sentences, positions, { batchSize: 4, registries: true, onBatch: (b) => void batches.push(b) });
  assert.equal(tf.memory().numTensors, before, 'collectStates leaked tensors');
  assert.equal(collected.batches, 3);
  assert.deepEqual([...batches.flatMap((b) => [...b.indices])].sort((x, y) => x - y), Array.from({ length: 11 }, (_, i) => i));

  // One-by-one reference: the model's own forward over the prefix x_0..x_t, its cache at position t.
  const names = [
    ...Array.from({ length: L + 1 }, (_, l) => residName(model, l)),
    ...Array.from({ length: L }, (_, b) => [`blocks.${b}.ln1.hook_normalized`, `blocks.${b}.hook_attn_out`, `blocks.${b}.hook_resid_mid`, `blocks.${b}.ln2.hook_normalized`, `blocks.${b}.hook_mlp_out`]).flat(),
  ];
  let worst = 0;
  for (let s = 0; s < sentences.length; s++) {
    const t = positions[s]!;
    const ids = tf.tensor2d([sentences[s]!.slice(0, t + 1)], [1, t + 1], 'int32');
    const { output, cache } = await model.runWithCache(ids, { namesFilter: names });
    const at = async (name: string) => {
      const v = (await cache.get(name).data()) as Float32Array;
      return v.slice(t * d, (t + 1) * d);
    };
    for (let l = 0; l <= L; l++) worst = Math.max(worst, maxRelDiff(collected.states![l]!.subarray(s * d, (s + 1) * d), await at(residName(model, l))));
    for (let b = 0; b < L; b++) {
      const blk = model.blocks[b]!;
      const affine = async (normalized: Float32Array, ln: typeof blk.ln1) => {
        const [w, bias] = [await ln.w.data(), await ln.b.data()];
        return normalized.map((x, k) => Math.fround(Math.fround(x * w[k]!) + bias[k]!));
      };
      const reg = collected.registries![b]!;
      const row = (a: number) => reg[a]!.subarray(s * d, (s + 1) * d);
      worst = Math.max(worst, maxRelDiff(row(1), await affine(await at(`blocks.${b}.ln1.hook_normalized`), blk.ln1)));
      worst = Math.max(worst, maxRelDiff(row(2), await at(`blocks.${b}.hook_attn_out`)));
      worst = Math.max(worst, maxRelDiff(row(3), await at(`blocks.${b}.hook_resid_mid`)));
      worst = Math.max(worst, maxRelDiff(row(4), await affine(await at(`blocks.${b}.ln2.hook_normalized`), blk.ln2)));
      worst = Math.max(worst, maxRelDiff(row(5), await at(`blocks.${b}.hook_mlp_out`)));
    }
    tf.dispose([ids, output]);
    cache.dispose();
  }
  console.log(`  batched vs one-by-one: max relative difference ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-5, `batched states differ from one-by-one by ${worst}`);

  // Registries: 0 is h_b, 6 is h_{b+1}; 3 = 0 + 2 and 6 = 3 + 5 in float32, exactly.
  for (let b = 0; b < L; b++) {
    const reg = collected.registries![b]!;
    assert.equal(reg[0], collected.states![b]);
    assert.equal(reg[6], collected.states![b + 1]);
    for (let k = 0; k < reg[0]!.length; k++) {
      assert.equal(reg[3]![k], Math.fround(reg[0]![k]! + reg[2]![k]!));
      assert.equal(reg[6]![k], Math.fround(reg[3]![k]! + reg[5]![k]!));
    }
  }
  model.dispose();
});

/** Exactly linear synthetic states: h_0 random, h_ℓ = M_ℓ·h_{ℓ−1} (float64, rounded once); registries too. */
function linearStates(seed: number, L: number, N: number, d: number): { states: CollectedStates; products: Float64Array[] } {
  const rng = createRng(seed);
  const randomMatrix = () => Float64Array.from({ length: d * d }, (_, k) => (k % (d + 1) === 0 ? 1 : 0) + 0.3 * rng.normal());
  const apply = (M: Float64Array, X: Float64Array) => {
    const out = new Float64Array(N * d);
    for (let n = 0; n < N; n++) for (let o = 0; o < d; o++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += M[o * d + i]! * X[n * d + i]!;
      out[n * d + o] = s;
    }
    return out;
  };
  const exact: Float64Array[] = [Float64Array.from({ length: N * d }, () => rng.normal())];
  const ms: Float64Array[] = [];
  for (let l = 1; l <= L; l++) {
    ms.push(randomMatrix());
    exact.push(apply(ms[l - 1]!, exact[l - 1]!));
  }
  const states = exact.map((x) => Float32Array.from(x));
  // Registries of block b: 1 = P1·0, 2 = P2·1, 3 = 0 + 2, 4 = P4·3, 5 = P5·4, 6 = 3 + 5 (not consistent with h_{b+1}: fine for fitting).
  const registries = Array.from({ length: L }, (_, b) => {
    const r0 = exact[b]!;
    const r1 = apply(randomMatrix(), r0);
    const r2 = apply(randomMatrix(), r1);
    const r3 = r0.map((x, k) => x + r2[k]!);
    const r4 = apply(randomMatrix(), r3);
    const r5 = apply(randomMatrix(), r4);
    return [states[b]!, ...[r1, r2, r3, r4, r5].map((x) => Float32Array.from(x)), states[b + 1]!];
  });
  return { states: { nSamples: N, nLayers: L, dModel: d, positions: new Int32Array(N), states, registries, batches: 1 }, products: exact };
}

test('fitShortcutsFromStates: on exactly linear data A_{L,ℓ}·h_ℓ reproduces h_L; host fit = streamed Gram fit; π fitted', async () => {
  const [L, N, d] = [3, 150, 6];
  const { states } = linearStates(11, L, N, d);
  const maps = await fitShortcutsFromStates(states, { threads: 1 });
  assert.deepEqual([...maps.shortcuts.keys()], ['0_1', '0_2', '0_3', '1_2', '1_3', '2_3']);
  assert.deepEqual([...maps.submodules.keys()], [0, 1, 2].flatMap((b) => [0, 1, 3, 4].map((a) => submoduleKey(b, a))));
  for (const map of maps.shortcuts.values()) {
    assert.ok(map.weight instanceof Float64Array);
    const predicted = applyLinearMap(map, { data: states.states![map.from]!, shape: [N, d] }, { dtype: 'float64' });
    const err = maxRelDiff(predicted, states.states![map.to]!);
    assert.ok(err < 1e-5, `${map.key}: ${err}`);
  }
  for (const map of maps.submodules.values()) {
    const reg = states.registries![map.block]!;
    const err = maxRelDiff(applyLinearMap(map, { data: reg[map.from]!, shape: [N, d] }), reg[map.to]!);
    assert.ok(err < 1e-5, `${map.key}: ${err}`);
  }
  // Streaming the same samples in uneven batches gives the same maps.
  const acc = new ShortcutAccumulator(L, d, { submodules: true });
  for (const [start, end] of [[0, 7], [7, 64], [64, 150]] as const) {
    const slice = (x: Float32Array) => x.slice(start * d, end * d);
    await acc.add({
      indices: new Int32Array(end - start), positions: new Int32Array(end - start),
      states: states.states!.map(slice), registries: states.registries!.map((regs) => regs.map(slice)),
    });
  }
  assert.equal(acc.count, N);
  const streamed = await fitShortcutsFromStates(acc);
  acc.dispose();
  for (const [key, map] of [...maps.shortcuts, ...maps.submodules]) {
    const other = streamed.shortcuts.get(key) ?? streamed.submodules.get(key);
    assert.ok(other, key);
    assert.ok(maxRelDiff(other.weight, map.weight) < 1e-8, key);
  }
  // r²: diagonal 1, lower triangle NaN, mat = 1 on linear data, id = r2ScoreId.
  const r2 = r2Matrices(states, maps);
  for (let i = 0; i <= L; i++) {
    for (let j = 0; j <= L; j++) {
      if (i === j) {
        assert.equal(r2.mat[i]![j], 1);
        assert.equal(r2.id[i]![j], 1);
      } else if (i > j) {
        assert.ok(Number.isNaN(r2.mat[i]![j]) && Number.isNaN(r2.id[i]![j]));
      } else {
        assert.ok(Math.abs(r2.mat[i]![j]! - 1) < 1e-9, `mat r2 ${i}→${j}: ${r2.mat[i]![j]}`);
        assert.equal(r2.id[i]![j], r2ScoreId(states.states![j]!, states.states![i]!, [N, d]));
        assert.ok(r2.id[i]![j]! < 0.99);
      }
    }
  }
});

test('streamed fit from the model equals the host fit of the same collected states (gpt2-tiny, 80 samples)', async () => {
  const model = await gpt2Tiny();
  const L = model.nLayers;
  const d = model.cfg.dModel;
  const sentences = randomSentences(21, 80, model.cfg.dVocab, 3, 14);
  const positions = sampleShortcutPositions(sentences, { seed: 2 });
  const acc = new ShortcutAccumulator(L, d, { submodules: true });
  const before = tf.memory().numTensors;
  const collected = await collectStates(model, sentences, positions, { batchSize: 16, registries: true, onBatch: (b) => acc.add(b) });
  assert.equal(tf.memory().numTensors, before);
  const host = await fitShortcutsFromStates(collected, { threads: 1 });
  const streamed: MatMaps = await fitShortcutsFromStates(acc);
  acc.dispose();
  for (const [key, map] of [...host.shortcuts, ...host.submodules]) {
    const other = streamed.shortcuts.get(key) ?? streamed.submodules.get(key)!;
    // Same samples, different float64 summation order; compare the fitted predictions.
    const source = 'block' in map ? collected.registries![(map as { block: number }).block]![map.from]! : collected.states![map.from]!;
    const a = applyLinearMap(map, { data: source, shape: [80, d] });
    const b = applyLinearMap(other, { data: source, shape: [80, d] });
    assert.ok(maxRelDiff(a, b) < 1e-6, `${key}: ${maxRelDiff(a, b)}`);
  }
  assert.ok(host.shortcuts.has(shortcutKey(0, L)));
  model.dispose();
});

test('collectStates rejects bad positions and keeps nothing with keep: false', async () => {
  const model = await gpt2Tiny();
  await assert.rejects(collectStates(model, [[1, 2, 3]], [3]), InvalidArgumentError);
  await assert.rejects(collectStates(model, [[1, 2, 3]], [0, 1]));
  const out = await collectStates(model, [[1, 2, 3], [4, 5]], [2, 1], { keep: false });
  assert.equal(out.states, null);
  assert.equal(out.registries, null);
  model.dispose();
});
