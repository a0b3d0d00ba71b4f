/**
 * End-to-end checks on the shipped model (weights/tiny-gpt2): it must show learned structure, not just run —
 * a held-out loss far below an untrained model's, an induction head (score ≥ 0.5 on repeated random tokens)
 * that causes the second copy of a random sequence to be predicted, a logit lens whose top-1 is fixed before the
 * last block on most held-out positions — and `tfjs-lens demo` must find all of it and write its report.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { lmLoss } from '../../lib/lens/metrics.js';
import { randomGpt2Weights } from '../../lib/io/convert/random.js';
import { inductionScores, repeatedRandomTokens, repeatedSequenceStats } from '../../lib/lens/attention.js';
import { ablationHook } from '../../lib/lens/ablation.js';
import { ROOT } from '../helpers/fixtures.js';
import { testBackend } from '../helpers/backend.js';

const MODEL_DIR = join(ROOT, 'weights', 'tiny-gpt2');
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

test('the shipped model loads like an HF checkpoint: ≥ 4 layers, own tokenizer, ≤ 12 MB', () => {
  assert.ok(model.cfg.nLayers >= 4);
  assert.ok(model.tokenizer, 'tokenizer.json ships with the model');
  const text = 'The capital city of France is Paris.\n';
  assert.equal(model.tokenizer!.decode(model.tokenizer!.encode(text)), text);
  assert.ok(statSync(join(MODEL_DIR, 'model.safetensors')).size <= 12e6);
});

test('it has learned the text: held-out loss far below a random model of the same shape', async () => {
  const ids = model.tokenizer!.encode(readFileSync(join(ROOT, 'data', 'text', 'heldout.txt'), 'utf8'));
  const windows = Array.from({ length: 8 }, (_, i) => ids.slice(i * 128, (i + 1) * 128));
  const trained = await model.forward(windows);
  const random = new HookedGPT2(model.cfg, randomGpt2Weights(model.cfg, 1));
  const untrained = await random.forward(windows);
  const [lossTrained, lossRandom] = [lmLoss(trained, windows), lmLoss(untrained, windows)].map((t) => {
    const v = t.dataSync()[0]!;
    t.dispose();
    return v;
  });
  tf.dispose([trained, untrained]);
  random.dispose();
  assert.ok(Math.abs(lossRandom - Math.log(model.cfg.dVocab)) < 0.5, `random model ${lossRandom}`);
  assert.ok(lossTrained < 5.5, `held-out loss ${lossTrained}`);
});

/** Mean log p(token_{t+1}) over t = N+1 … 2N−1 of `[batch, 2N+1]` repeated tokens (BOS first): the predictable half. */
async function secondHalfLogProb(logits: tf.Tensor, tokens: tf.Tensor2D, n: number): Promise<number> {
  const value = tf.tidy(() => {
    const [batch, width] = tokens.shape;
    const logProbs = tf.logSoftmax(tf.slice(logits, [0, n + 1, 0], [batch, n - 1, -1]));
    const targets = tf.slice(tokens, [0, n + 2], [batch, width - n - 2]);
    return tf.mean(tf.sum(tf.mul(logProbs, tf.oneHot(targets, logits.shape[2]!)), -1));
  });
  const v = (await value.data())[0]!;
  value.dispose();
  return v;
}

test('it has an induction head (≥ 0.5, any seed) that makes the second copy of random tokens predictable', async () => {
  const n = 50;
  const tokens = repeatedRandomTokens({ nTokens: n, batch: 8, vocab: model.cfg.dVocab, bos: model.cfg.bosTokenId!, seed: 7 });
  try {
    const scores = (await inductionScores(model, tokens)).data;
    let best = 0;
    for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
    const [layer, head] = [Math.floor(best / model.cfg.nHeads), best % model.cfg.nHeads];
    assert.ok(scores[best]! >= 0.5, `best induction score L${layer}H${head} ${scores[best]}`);
    assert.ok(layer >= 1, 'an induction head needs an earlier layer to compose with');
    const stats = await repeatedSequenceStats(model, tokens);
    // first half: random ids, ≈ −ln V; second half: copied from the first
    assert.ok(stats.logProbFirstHalf < -Math.log(model.cfg.dVocab) + 1.5, `first half ${stats.logProbFirstHalf}`);
    assert.ok(stats.logProbSecondHalf - stats.logProbFirstHalf > 3, `log-prob gap ${stats.logProbSecondHalf - stats.logProbFirstHalf}`);
    assert.ok(stats.accSecondHalf > stats.accFirstHalf + 0.3, `top-1 accuracy ${stats.accFirstHalf} → ${stats.accSecondHalf}`);
    // causal checks: without the induction heads' output the copied half is predicted far worse, and the best
    // head alone carries part of it (the model has several induction heads, so one head is partly redundant)
    const inductionHeads = Array.from(scores, (score, i) => ({ score, layer: Math.floor(i / model.cfg.nHeads), head: i % model.cfg.nHeads })).filter((h) => h.score >= 0.5);
    const byLayer = new Map<number, number[]>();
    for (const h of inductionHeads) byLayer.set(h.layer, [...(byLayer.get(h.layer) ?? []), h.head]);
    const clean = await model.forward(tokens);
    const withoutBest = await model.runWithHooks(tokens, { fwdHooks: [[`blocks.${layer}.attn.hook_z`, ablationHook('zero', { head })]] });
    const withoutAll = await model.runWithHooks(tokens, { fwdHooks: [...byLayer].map(([l, heads]) => [`blocks.${l}.attn.hook_z`, ablationHook('zero', { heads })] as const) });
    const [lpClean, lpBest, lpAll] = [await secondHalfLogProb(clean, tokens, n), await secondHalfLogProb(withoutBest, tokens, n), await secondHalfLogProb(withoutAll, tokens, n)];
    tf.dispose([clean, withoutBest, withoutAll]);
    assert.ok(lpClean - lpBest > 0.1, `ablating L${layer}H${head}: second-half log-prob ${lpClean} → ${lpBest}`);
    assert.ok(lpClean - lpAll > 3, `ablating ${inductionHeads.map((h) => `L${h.layer}H${h.head}`).join(', ')}: second-half log-prob ${lpClean} → ${lpAll}`);
  } finally {
    tokens.dispose();
  }
});

test('toStrTokens renders each token on its own and the pieces join back into the text', () => {
  const text = 'The capital city of Italy is Rome.';
  const pieces = model.toStrTokens(text);
  assert.ok(pieces.length > 3 && pieces.length < text.length);
  assert.equal(pieces.join(''), text);
});

test('tfjs-lens demo runs offline, finds the induction head and writes the report and figures', () => {
  const out = mkdtempSync(join(tmpdir(), 'tfjs-lens-demo-'));
  try {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'lib', 'cli', 'main.js'), 'demo', '--out', out, '--json'], { encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { induction: { score: number }[]; settling: { positions: number; decidedBeforeLastLayer: number }; files: string[]; repeated: { logProbFirstHalf: number; logProbSecondHalf: number } };
    assert.equal(result.induction.length, model.cfg.nLayers * model.cfg.nHeads);
    assert.ok(result.induction[0]!.score >= 0.5, `demo's best induction head ${result.induction[0]!.score}`);
    assert.ok(result.repeated.logProbSecondHalf > result.repeated.logProbFirstHalf + 3, JSON.stringify(result.repeated));
    // the logit lens settles before the last block on held-out text (1024 tokens in windows of 128)
    assert.equal(result.settling.positions, 1024);
    assert.ok(result.settling.decidedBeforeLastLayer >= 0.5, `lens top-1 fixed before the last block at ${result.settling.decidedBeforeLastLayer}`);
    for (const file of result.files) assert.ok(statSync(file).size > 500, file);
    const png = readFileSync(join(out, 'induction-head-pattern.png'));
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /Induction and previous-token heads/);
    assert.match(html, /is an induction head \(score/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
