/**
 * End-to-end checks on the second shipped model, weights/tiny-gpt2-deep (16 blocks, grown from tiny-gpt2 and
 * trained on): Hugging Face computes the same logits and residual states from the shipped files; it keeps an
 * induction head; linear shortcuts beat the identity (mat > id); and on held-out text its top-k tokens
 * saturate in order — mean strict Kendall τ > 0 with a permutation p < 0.01, which the 4-layer model cannot
 * show (ties between its 4 layers dominate).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { resolveModelArg } from '../../lib/io/shipped-models.js';
import { inductionScores, repeatedRandomTokens, repeatedSequenceStats } from '../../lib/lens/attention.js';
import { ROOT, readFixture, relError } from '../helpers/fixtures.js';
import { testBackend, defaultTierOnly } from '../helpers/backend.js';
import { cliJson } from '../helpers/cli.js';
import * as tf from '@tensorflow/tfjs-core';
import { fitLinearMap, applyLinearMap } from '../../lib/linreg/fit.js';
import { r2Score, r2ScoreId } from '../../lib/linreg/r2.js';

const MODEL_DIR = join(ROOT, 'weights', 'tiny-gpt2-deep');
const HELDOUT = join(ROOT, 'data', 'text', 'heldout.txt');
const SENTENCES = join(ROOT, 'data', 'text', 'sentences.txt');
let model: HookedGPT2;

before(async () => {
  await setBackend(testBackend('wasm'));
  const loaded = await loadModel(MODEL_DIR);
  assert.ok(loaded instanceof HookedGPT2);
  model = loaded;
});

after(() => {
  model.dispose();
});

test('tiny-gpt2-deep: 16 blocks, the 4-layer model\'s tokenizer, ≤ 32 MB, found by name from any directory', () => {
  assert.equal(model.cfg.nLayers, 16);
  assert.equal(model.cfg.dModel, 128);
  assert.ok(statSync(join(MODEL_DIR, 'model.safetensors')).size <= 32e6);
  assert.equal(readFileSync(join(MODEL_DIR, 'tokenizer.json'), 'utf8'), readFileSync(join(ROOT, 'weights', 'tiny-gpt2', 'tokenizer.json'), 'utf8'));
  assert.equal(resolveModelArg('tiny-gpt2-deep'), MODEL_DIR);
});

test('Hugging Face computes the same logits and residual states from the shipped files (transformers 5.18)', async () => {
  const { inputs, expected } = await readFixture('tiny-gpt2-deep');
  const ids = Array.from(inputs.get('input_ids')!.data as Int32Array);
  // the fixture's ids are the HF tokenizer's: ours must give the same
  const text = readFileSync(HELDOUT, 'utf8').slice(0, 2000);
  assert.deepEqual(model.tokenizer!.encode(text).slice(0, ids.length), ids);
  const names = [...Array.from({ length: 16 }, (_, l) => `blocks.${l}.hook_resid_pre`), 'blocks.15.hook_resid_post'];
  const { output, cache } = await model.runWithCache([ids], { namesFilter: names });
  try {
    assert.ok(relError(await output.data(), expected.get('logits')!.data as Float32Array) < 1e-5);
    for (let n = 0; n <= 16; n++) {
      const got = await cache.get(names[n]!).data();
      const err = relError(got, expected.get(`hidden_states.${n}`)!.data as Float32Array);
      assert.ok(err < 1e-5, `h_${n}: relative error ${err}`);
    }
  } finally {
    output.dispose();
    cache.dispose();
  }
});

test('it keeps an induction head (≥ 0.5) and predicts the second copy of random tokens', async () => {
  const tokens = repeatedRandomTokens({ nTokens: 50, batch: 4, vocab: model.cfg.dVocab, bos: model.cfg.bosTokenId!, seed: 3 });
  try {
    const scores = (await inductionScores(model, tokens)).data;
    assert.ok(Math.max(...scores) >= 0.5, `best induction score ${Math.max(...scores)}`);
    const stats = await repeatedSequenceStats(model, tokens);
    assert.ok(stats.accSecondHalf > 0.9 && stats.accFirstHalf < 0.05, `accuracy ${stats.accFirstHalf} → ${stats.accSecondHalf}`);
  } finally {
    tokens.dispose();
  }
});

test('linear shortcuts: a least-squares A_{j,i} predicts h_j from h_i better than h_i itself (mat > id)', async () => {
  // the last position of 600 shipped sentences cut to 12 tokens; 450 fit A_{j,i}, 150 validate (the card uses
  // `tfjs-lens shortcuts` with 1000 / 300 sentences and every pair)
  const tokenizer = model.tokenizer!;
  const rows = readFileSync(SENTENCES, 'utf8').split('\n').map((line) => tokenizer.encode(line)).filter((ids) => ids.length >= 12).slice(0, 600).map((ids) => ids.slice(0, 12));
  assert.equal(rows.length, 600);
  const layers = [0, 4, 8, 12, 16];
  const names = layers.map((l) => (l < 16 ? `blocks.${l}.hook_resid_pre` : 'blocks.15.hook_resid_post'));
  const d = model.cfg.dModel;
  const states = layers.map(() => new Float32Array(rows.length * d));
  for (let s = 0; s < rows.length; s += 100) {
    const { output, cache } = await model.runWithCache(rows.slice(s, s + 100), { namesFilter: names });
    try {
      for (const [i, name] of names.entries()) {
        const last = tf.tidy(() => tf.slice(cache.get(name), [0, 11, 0], [-1, 1, -1]));
        states[i]!.set(await last.data(), s * d);
        last.dispose();
      }
    } finally {
      output.dispose();
      cache.dispose();
    }
  }
  const [nTrain, nVal] = [450, 150];
  for (let a = 0; a < layers.length; a++) {
    for (let b = a + 1; b < layers.length; b++) {
      const train = (i: number) => ({ data: states[i]!.subarray(0, nTrain * d), shape: [nTrain, d] as const });
      const val = (i: number) => states[i]!.subarray(nTrain * d);
      const map = await fitLinearMap(train(a), train(b));
      const predicted = applyLinearMap(map, { data: val(a), shape: [nVal, d] });
      const r2Mat = r2Score(val(b), predicted, [nVal, d]);
      const r2Id = r2ScoreId(val(b), val(a), [nVal, d]);
      assert.ok(r2Mat > r2Id, `h_${layers[a]} → h_${layers[b]}: r² mat ${r2Mat} vs id ${r2Id}`);
    }
  }
});

test('order of saturation on held-out text: mean strict Kendall τ > 0, permutation p < 0.01 (tfjs-lens saturation)', defaultTierOnly(), () => {
  // the first 6 windows of 64 tokens of data/text/heldout.txt (one length: one batch per forward pass; the
  // model card runs every line of the file: τ over 17 572 positions)
  const ids = model.tokenizer!.encode(readFileSync(HELDOUT, 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-deep-'));
  try {
    const file = join(dir, 'heldout-6x64.txt');
    writeFileSync(file, Array.from({ length: 6 }, (_, w) => ids.slice(w * 64, (w + 1) * 64).join(',')).join('\n') + '\n');
    const r = cliJson<{ L: number; positions: number; kendall: { meanTau: number; p: number; nUsed: number } }>('saturation', '--model', 'tiny-gpt2-deep', '--ids-file', file, '--out', dir);
    assert.equal(r.L, 16);
    assert.equal(r.positions, 6 * 64);
    assert.ok(r.kendall.nUsed >= 150, `${r.kendall.nUsed} positions used`);
    assert.ok(r.kendall.meanTau > 0, `mean τ ${r.kendall.meanTau}`);
    assert.ok(r.kendall.p < 0.01, `p ${r.kendall.p}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
