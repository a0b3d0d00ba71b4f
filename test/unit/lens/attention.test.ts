import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import type { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import type { HookFn } from '../../../lib/nn/hook-point.js';
import type { NamesFilter, RunWithHooksOptions } from '../../../lib/nn/hooked-root.js';
import type { HookedLensModel } from '../../../lib/lens/logit-lens.js';
import { detectionPattern, headDetector, inductionScores, previousTokenScores, repeatedRandomTokens, repeatedSequenceStats } from '../../../lib/lens/attention.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

const close = (a: number, b: number, tol = 1e-5) => Math.abs(a - b) <= tol;

/** Hand-built attention rows `[T][T]` for one head. */
type Pattern = number[][];

/**
 * A fake 2-layer, 2-head model whose forward pass only runs the `attn.hook_pattern` hooks with
 * hand-built patterns (the same for every batch item).
 */
function fakeModel(patterns: Pattern[][], batch: number): HookedLensModel<tf.Tensor | number[][]> {
  const L = patterns.length;
  const names = Array.from({ length: L }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const matches = (filter: NamesFilter, name: string) => (typeof filter === 'function' ? filter(name) : typeof filter === 'string' ? filter === name : filter.includes(name));
  return {
    nLayers: L,
    residPrefix: '',
    lensPositions: 'all',
    lensLogits: (r) => tf.clone(r),
    hookNames: () => names,
    runWithCache: () => Promise.reject(new Error('not used')),
    forward: () => Promise.reject(new Error('not used')),
    async runWithHooks(_input, opts: RunWithHooksOptions) {
      tf.tidy(() => {
        names.forEach((name, l) => {
          const p = tf.broadcastTo(tf.expandDims(tf.tensor(patterns[l]!), 0), [batch, patterns[l]!.length, patterns[l]![0]!.length, patterns[l]![0]!.length]);
          for (const [filter, fn] of opts.fwdHooks) if (matches(filter, name)) (fn as HookFn)(p, { name, layer: () => l, ctx: {} });
        });
      });
      return tf.zeros([1]);
    },
  };
}

const T = 7;
const N = 3;
const rows = (f: (q: number, k: number) => number): Pattern => Array.from({ length: T }, (_, q) => Array.from({ length: T }, (_, k) => (k <= q ? f(q, k) : 0)));
const induction = rows((q, k) => (q >= N - 1 ? (k === q - N + 1 ? 1 : 0) : k === 0 ? 1 : 0));
const previous = rows((q, k) => (q === 0 ? 1 : k === q - 1 ? 1 : 0));
const uniform = rows((q) => 1 / (q + 1));
const bosOnly = rows((_, k) => (k === 0 ? 1 : 0));

test('repeatedRandomTokens: [BOS, r, r], seeded, uniform ids in range', () => {
  const before = tf.memory().numTensors;
  const t = repeatedRandomTokens({ nTokens: 5, batch: 3, vocab: 50257, seed: 7 });
  assert.deepEqual(t.shape, [3, 11]);
  assert.equal(t.dtype, 'int32');
  const rowsOut = t.arraySync();
  for (const r of rowsOut) {
    assert.equal(r[0], 50256);
    assert.deepEqual(r.slice(1, 6), r.slice(6, 11));
    for (const id of r) assert.ok(id >= 0 && id < 50257);
  }
  assert.notDeepEqual(rowsOut[0], rowsOut[1]);
  const again = repeatedRandomTokens({ nTokens: 5, batch: 3, vocab: 50257, seed: 7 });
  assert.deepEqual(again.arraySync(), rowsOut);
  const noBos = repeatedRandomTokens({ nTokens: 4, batch: 1, vocab: 10, bos: null });
  assert.deepEqual(noBos.shape, [1, 8]);
  tf.dispose([t, again, noBos]);
  assert.equal(tf.memory().numTensors, before);
});

test('induction and previous-token scores of hand-built patterns', async () => {
  await setBackend(testBackend('cpu'));
  const before = tf.memory().numTensors;
  const model = fakeModel([[induction, previous], [uniform, bosOnly]], 2);
  const tokens = [[9, 1, 2, 3, 1, 2, 3], [9, 4, 5, 6, 4, 5, 6]];
  const indScores = await inductionScores(model, tokens);
  assert.deepEqual(indScores.shape, [2, 2]);
  const ind = indScores.data;
  const uniformInd = [2, 3, 4, 5, 6].reduce((s, q) => s + 1 / (q + 1), 0) / 5;
  for (const [i, want] of [1, 0, uniformInd, 1 / 5].entries()) assert.ok(close(ind[i]!, want), `induction head ${i}: ${ind[i]} vs ${want}`);
  const strict = (await inductionScores(model, tokens, { strict: true })).data;
  const uniformStrict = [4, 5, 6].reduce((s, q) => s + 1 / (q + 1), 0) / 3;
  for (const [i, want] of [1, 0, uniformStrict, 0].entries()) assert.ok(close(strict[i]!, want), `strict head ${i}`);
  const prev = (await previousTokenScores(model, tokens)).data;
  const uniformPrev = [1, 2, 3, 4, 5, 6].reduce((s, q) => s + 1 / (q + 1), 0) / 6;
  for (const [i, want] of [1 / 6, 1, uniformPrev, 1 / 6].entries()) assert.ok(close(prev[i]!, want), `previous head ${i}: ${prev[i]} vs ${want}`);
  assert.equal(tf.memory().numTensors, before);
});

test('head detector (TransformerLens semantics) on hand-built patterns', async () => {
  await setBackend(testBackend('cpu'));
  const before = tf.memory().numTensors;
  const model = fakeModel([[induction, previous], [uniform, bosOnly]], 1);
  const tokens = [[9, 1, 2, 3, 1, 2, 3]];
  // Detection patterns as TransformerLens builds them.
  const dup = detectionPattern('duplicate', tokens[0]!).data;
  assert.deepEqual([4, 5, 6].map((q) => dup[q * T + q - 3]), [1, 1, 1]);
  assert.equal(dup.reduce((s, v) => s + v, 0), 3);
  const indD = detectionPattern('induction', tokens[0]!).data;
  assert.deepEqual([4, 5, 6].map((q) => indD[q * T + q - 2]), [1, 1, 1]);
  assert.equal(indD.reduce((s, v) => s + v, 0), 3);
  // mul: Σ(P ⊙ D)/ΣP over the whole matrix (T = 7 rows, each summing to 1).
  const prevMul = (await headDetector(model, tokens, { pattern: 'previous' })).data;
  assert.ok(close(prevMul[1]!, 6 / 7), `previous head: ${prevMul[1]}`);
  assert.ok(close(prevMul[0]!, 1 / 7), `induction head on previous pattern ${prevMul[0]}`); // only row 1 → key 0
  const indMul = (await headDetector(model, tokens, { pattern: 'induction' })).data;
  assert.ok(close(indMul[0]!, 3 / 7), `induction head: ${indMul[0]}`);
  // excludeBos zeroes column 0 first: the induction head keeps rows 3 … 6 (4 of mass 1, 3 hits).
  const indNoBos = (await headDetector(model, tokens, { pattern: 'induction', excludeBos: true })).data;
  assert.ok(close(indNoBos[0]!, 3 / 4), `${indNoBos[0]}`);
  // excludeCurrent on the uniform head.
  const dupNoCur = (await headDetector(model, tokens, { pattern: 'duplicate', excludeCurrent: true })).data;
  const num = [4, 5, 6].reduce((s, q) => s + 1 / (q + 1), 0);
  const den = [1, 2, 3, 4, 5, 6].reduce((s, q) => s + q / (q + 1), 0);
  assert.ok(close(dupNoCur[2]!, num / den), `uniform duplicate ${dupNoCur[2]} vs ${num / den}`);
  // abs: 1 − round(mean|P − D|·T, 3).
  const prevAbs = (await headDetector(model, tokens, { pattern: 'previous', mode: 'abs' })).data;
  const prevD = detectionPattern('previous', tokens[0]!).data;
  for (const [i, P] of [induction, previous, uniform, bosOnly].entries()) {
    let s = 0;
    P.forEach((row, q) => row.forEach((v, k) => (s += Math.abs(v - prevD[q * T + k]!))));
    const want = 1 - Math.round((s / (T * T)) * T * 1000) / 1000;
    assert.ok(close(prevAbs[i]!, want), `abs head ${i}: ${prevAbs[i]} vs ${want}`);
  }
  // A custom [T, T] detection pattern.
  const custom = tf.tensor2d(bosOnly);
  const bos = (await headDetector(model, tokens, { pattern: custom })).data;
  assert.ok(close(bos[3]!, 1));
  custom.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('on gpt2-tiny: hook-reduced scores equal scores computed from cached patterns; per-half stats equal a direct computation', async () => {
  await setBackend(testBackend('cpu'));
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const before = tf.memory().numTensors;
  const n = 10;
  const tokens = repeatedRandomTokens({ nTokens: n, batch: 3, vocab: 1000, seed: 3 });
  const Tlen = 2 * n + 1;
  const ind = (await inductionScores(model, tokens)).data;
  const prev = (await previousTokenScores(model, tokens)).data;
  const det = (await headDetector(model, tokens, { pattern: 'duplicate', excludeBos: true })).data;
  const { output, cache } = await model.runWithCache(tokens, { namesFilter: (nm) => nm.endsWith('hook_pattern') });
  const tok = tokens.arraySync();
  for (let l = 0; l < 3; l++) {
    const p = (await cache.get(`blocks.${l}.attn.hook_pattern`).array()) as number[][][][];
    for (let h = 0; h < 4; h++) {
      let si = 0;
      let sp = 0;
      let sd = 0;
      for (let b = 0; b < 3; b++) {
        for (let q = n - 1; q <= 2 * n; q++) si += p[b]![h]![q]![q - n + 1]!;
        for (let q = 1; q < Tlen; q++) sp += p[b]![h]![q]![q - 1]!;
        let hit = 0;
        let all = 0;
        for (let q = 0; q < Tlen; q++) {
          for (let k = 1; k <= q; k++) {
            all += p[b]![h]![q]![k]!;
            if (k < q && tok[b]![k] === tok[b]![q]) hit += p[b]![h]![q]![k]!;
          }
        }
        sd += hit / all;
      }
      assert.ok(close(ind[l * 4 + h]!, si / (3 * (n + 2))), `induction L${l}H${h}`);
      assert.ok(close(prev[l * 4 + h]!, sp / (3 * (Tlen - 1))), `previous L${l}H${h}`);
      assert.ok(close(det[l * 4 + h]!, sd / 3), `duplicate L${l}H${h}`);
    }
  }
  // Per-half log-probs and accuracies.
  const stats = await repeatedSequenceStats(model, tokens);
  const logits = (await output.array()) as number[][][];
  const lp: number[][] = [];
  const hit: number[][] = [];
  for (let b = 0; b < 3; b++) {
    lp.push([]);
    hit.push([]);
    for (let t = 0; t < 2 * n; t++) {
      const row = logits[b]![t]!;
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      lp[b]!.push(row[tok[b]![t + 1]!]! - lse);
      hit[b]!.push(row.indexOf(max) === tok[b]![t + 1]! ? 1 : 0);
    }
  }
  const mean = (xs: number[][], from: number, to: number) => xs.reduce((s, r) => s + r.slice(from, to).reduce((a, v) => a + v, 0), 0) / (xs.length * (to - from));
  assert.ok(close(stats.logProbFirstHalf, mean(lp, 0, n), 1e-4));
  assert.ok(close(stats.logProbSecondHalf, mean(lp, n, 2 * n), 1e-4));
  assert.ok(close(stats.accFirstHalf, mean(hit, 0, n)));
  assert.ok(close(stats.accSecondHalf, mean(hit, n, 2 * n)));
  output.dispose();
  cache.dispose();
  tokens.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
