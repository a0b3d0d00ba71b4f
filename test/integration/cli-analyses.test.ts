/**
 * The analysis subcommands (`saturation`, `heads`, `patch`, `shortcuts`, `probe`) run end to end on the
 * gpt2-tiny fixture (id inputs: it has no tokenizer) with `--json`, and their key numbers are compared
 * with independent computations in this process: lens rankings from a full-vocabulary host sort,
 * attention scores read off cached patterns, logit differences on the host, and the library pipelines
 * called directly with the same seeds. Text input is checked on the shipped tiny GPT-2 when present.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { logitLens, residNamesFilter } from '../../lib/lens/logit-lens.js';
import { filterBySaturation, saturationLayers } from '../../lib/lens/saturation.js';
import { meanTauPermutationTest, rankCorrespondence } from '../../lib/lens/order.js';
import { betterLmExample, betterLmGroups, type BetterLmExample } from '../../lib/lens/better-lm.js';
import { headDetector, repeatedRandomTokens, repeatedSequenceStats } from '../../lib/lens/attention.js';
import { patchScan } from '../../lib/lens/patching.js';
import { logitDiffMetric } from '../../lib/lens/metrics.js';
import { runMatPipeline } from '../../lib/shortcuts/index.js';
import { runProbeExperiment } from '../../lib/probes/index.js';
import { readAllSafetensors } from '../../lib/io/safetensors.js';
import { createRng } from '../../lib/math/rng.js';
import { ROOT, fixtureDir } from '../helpers/fixtures.js';
import { patternScores } from '../helpers/lens-reference.js';
import { cli, cliJson } from '../helpers/cli.js';
import { testBackend } from '../helpers/backend.js';

const FIXTURE = fixtureDir('gpt2-tiny');
const SHIPPED = join(ROOT, 'weights', 'tiny-gpt2');

function assertPng(path: string): void {
  assert.ok(existsSync(path), `${path} was written`);
  assert.deepEqual([...readFileSync(path).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${path} is a PNG`);
}

function close(actual: number | null, expected: number, tol: number, what: string): void {
  if (Number.isNaN(expected)) return assert.equal(actual, null, `${what}: NaN prints as null`);
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

/** Random id sequences of lengths minLen … maxLen (vocab 1000), one per line. */
function idSequences(seed: number, count: number, minLen: number, maxLen: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => Array.from({ length: minLen + rng.uniformInt(maxLen - minLen + 1) }, () => rng.uniformInt(1000)));
}

let dir: string;
let model: HookedGPT2;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cli-analyses-'));
  await setBackend(testBackend('cpu'));
  const loaded = await loadModel(FIXTURE);
  assert.ok(loaded instanceof HookedGPT2);
  model = loaded;
});

after(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Top-k ids (value desc, id asc) of the lens of h_1 … h_L at every position of one sequence: `[T][L][k]`. */
async function hostRanks(ids: number[], k: number): Promise<number[][][]> {
  const { output, cache } = await model.runWithCache([ids], { namesFilter: residNamesFilter(model) });
  const lens = logitLens(model, cache); // [L+1, 1, T, V]
  const values = (await lens.array()) as number[][][][];
  tf.dispose([output, lens]);
  cache.dispose();
  const L = model.cfg.nLayers;
  return ids.map((_, p) =>
    Array.from({ length: L }, (_, j) => {
      const row = values[j + 1]![0]![p]!;
      return row.map((v, id) => ({ v, id })).sort((a, b) => b.v - a.v || a.id - b.id).slice(0, k).map((x) => x.id);
    }),
  );
}

interface SaturationJson {
  L: number;
  positions: number;
  meanSaturation: number[];
  s0Histogram: number[];
  filter: { maxS0: number; kept: number };
  rankCorrespondence: { perRank: { rank: number; n: number; meanPosition: number | null; sem: number | null }[]; tests: ({ t: number; p: number; stars: string } | null)[] };
  kendall: { meanTau: number | null; p: number | null; nUsed: number; nSkipped: number; reps: number };
  betterLm: { positions: number; top1Correct: number; neither: number; groupA: { count: number; rank2Correct: number }; groupB: { count: number; rank2Correct: number } };
  files: string[];
}

test('saturation --json: §1 layers, §2 order statistics and §6 groups equal a host-sorted lens + the library statistics', async () => {
  const seqs = idSequences(3, 24, 3, 14);
  const file = join(dir, 'sat-ids.txt');
  writeFileSync(file, `# id sequences\n${seqs.map((s) => s.join(',')).join('\n')}\n\n`);
  const out = join(dir, 'sat');
  const k = 4;
  {
    const quirk = false;
    const r = cliJson<SaturationJson>('saturation', '--model', FIXTURE, '--ids-file', file, '--k', String(k), '--filter', '0.5', '--reps', '200', '--seed', '3', '--batch', '4', '--out', out);
    const before = tf.memory().numTensors;
    const S: number[][] = [];
    const records: BetterLmExample[] = [];
    for (const ids of seqs) {
      const ranks = await hostRanks(ids, k);
      ranks.forEach((table, p) => {
        S.push(saturationLayers(table, { quirkAllAgreeIsL: quirk }));
        if (p + 1 < ids.length) records.push(betterLmExample(table, ids[p + 1]!, { quirkAllAgreeIsL: quirk }));
      });
    }
    assert.equal(tf.memory().numTensors, before, 'reference lens leaked tensors');
    const L = model.cfg.nLayers;
    assert.equal(r.L, L);
    assert.equal(r.positions, seqs.reduce((s, q) => s + q.length, 0));
    for (let rank = 0; rank < k; rank++) close(r.meanSaturation[rank]!, S.reduce((s, row) => s + row[rank]!, 0) / S.length, 1e-12, `mean s_${rank}`);
    assert.deepEqual(r.s0Histogram.slice(0, L), Array.from({ length: L }, (_, j) => S.filter((row) => row[0] === j).length));
    const kept = filterBySaturation(S, L, { fraction: 0.5 });
    assert.equal(r.filter.maxS0, 1);
    assert.equal(r.filter.kept, kept.kept.length);
    assert.ok(kept.kept.length > 0 && kept.kept.length < S.length, 'the 0.5 filter drops some positions and keeps some');
    const rc = rankCorrespondence(kept.kept, L);
    rc.perRank.forEach((p, i) => {
      assert.equal(r.rankCorrespondence.perRank[i]!.n, p.n);
      close(r.rankCorrespondence.perRank[i]!.meanPosition, p.meanPosition, 1e-12, `rank ${i} mean position`);
      close(r.rankCorrespondence.perRank[i]!.sem, p.sem, 1e-12, `rank ${i} SEM`);
    });
    rc.tests.forEach((t, i) => {
      const got = r.rankCorrespondence.tests[i]!;
      if (!t) return assert.equal(got, null);
      close(got.t, t.t, 1e-9, `t ${i}`);
      close(got.p, t.p, 1e-9, `p ${i}`);
      assert.equal(got.stars, t.stars);
    });
    const tau = meanTauPermutationTest(kept.kept, L, { reps: 200, seed: 3 });
    close(r.kendall.meanTau, tau.meanTau, 1e-12, 'mean τ');
    close(r.kendall.p, tau.p, 0, 'permutation p');
    assert.equal(r.kendall.nUsed, tau.nUsed);
    assert.equal(r.kendall.reps, 200);
    const lm = betterLmGroups(records, L);
    assert.equal(r.betterLm.positions, records.length);
    assert.equal(r.betterLm.top1Correct, lm.top1Correct);
    assert.equal(r.betterLm.neither, lm.neither);
    assert.deepEqual([r.betterLm.groupA.count, r.betterLm.groupA.rank2Correct], [lm.groupA.count, lm.groupA.rank2Correct]);
    assert.deepEqual([r.betterLm.groupB.count, r.betterLm.groupB.rank2Correct], [lm.groupB.count, lm.groupB.rank2Correct]);
    assertPng(r.files[0]!);
  }
  // Default output: tables; with the quirk, all-agree ranks count as s = L in the s_0 histogram.
  const table = cli('saturation', '--model', FIXTURE, '--ids-file', file, '--max-examples', '3', '--reps', '10', '--quirk-all-agree-is-l', '--out', out);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^3 sequences from .*sat-ids\.txt \(ids\), \d+ positions, L = 3 blocks, k = 5, all-agree ranks → s = L$/m);
  assert.match(table.stdout, /^s_0 histogram: 0:0 1:\d+ 2:\d+ 3:\d+$/m);
  assert.match(table.stdout, /§2a rank correspondence/);
  assert.match(table.stdout, /^rank\s+n\s+mean ± SEM\s+vs next rank/m);
  assert.match(table.stdout, /§2b mean strict Kendall τ/);
  assert.match(table.stdout, /§6 better LM/);
});

interface HeadsJson {
  tokens: { nTokens: number; batch: number; seed: number; bos: number };
  scores: Record<'induction' | 'previousToken' | 'detectorPrevious' | 'detectorDuplicate' | 'detectorInduction', number[][]>;
  topHeads: Record<string, { layer: number; head: number; score: number }[]>;
  repeated: { logProbFirstHalf: number; logProbSecondHalf: number; accFirstHalf: number; accSecondHalf: number };
  files: string[];
}

test('heads --json: induction / previous-token scores equal the cached attention patterns, detector and stats equal the library', async () => {
  const N = 12;
  const r = cliJson<HeadsJson>('heads', '--model', FIXTURE, '--n-tokens', String(N), '--batch', '3', '--seed', '5', '--out', join(dir, 'heads'));
  const vocab = model.cfg.dVocab;
  assert.deepEqual(r.tokens, { nTokens: N, batch: 3, seed: 5, bos: vocab - 1, vocab }); // config BOS 50256 is outside the fixture's vocab
  const L = model.cfg.nLayers;
  const H = model.cfg.nHeads;
  const before = tf.memory().numTensors;
  const tokens = repeatedRandomTokens({ nTokens: N, batch: 3, vocab, bos: vocab - 1, seed: 5 });
  const names = Array.from({ length: L }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const { output, cache } = await model.runWithCache(tokens, { namesFilter: names });
  for (let l = 0; l < L; l++) {
    const pattern = (await cache.get(names[l]!).array()) as number[][][][]; // [batch, H, T, T]
    for (let h = 0; h < H; h++) {
      const ref = patternScores(pattern, h, N);
      close(r.scores.induction[l]![h]!, ref.induction, 1e-5, `induction L${l}H${h}`);
      close(r.scores.previousToken[l]![h]!, ref.previousToken, 1e-5, `previous-token L${l}H${h}`);
    }
  }
  tf.dispose(output);
  cache.dispose();
  for (const [kind, pattern] of [['detectorPrevious', 'previous'], ['detectorDuplicate', 'duplicate'], ['detectorInduction', 'induction']] as const) {
    const lib = (await headDetector(model, tokens, { pattern })).data;
    for (let i = 0; i < L * H; i++) close(r.scores[kind][Math.floor(i / H)]![i % H]!, lib[i]!, 1e-6, `${kind} ${i}`);
  }
  const stats = await repeatedSequenceStats(model, tokens);
  for (const key of ['logProbFirstHalf', 'logProbSecondHalf', 'accFirstHalf', 'accSecondHalf'] as const) close(r.repeated[key], stats[key], 1e-6, key);
  tokens.dispose();
  assert.equal(tf.memory().numTensors, before, 'reference computations leaked tensors');
  const best = r.topHeads.induction![0]!;
  assert.equal(best.score, Math.max(...r.scores.induction.flat()));
  assert.equal(r.files.length, 5);
  for (const f of r.files) assertPng(f);
  const tooLong = cli('heads', '--model', FIXTURE, '--n-tokens', '40', '--out', join(dir, 'heads'));
  assert.equal(tooLong.status, 1);
  assert.match(tooLong.stderr, /--n-tokens 40: BOS \+ 2×40 tokens exceed the model's n_ctx 64[\s\S]*hint: use --n-tokens 31/);
});

interface PatchJson {
  hook: string;
  by: string;
  layers: number[];
  columns: number[];
  values: number[][];
  normalized: number[][];
  cleanLogitDiff: number;
  corruptLogitDiff: number;
  files: string[];
}

test('patch --json: patched logit differences equal patchScan, clean/corrupt metrics equal host logit differences', async () => {
  const clean = [5, 17, 300, 2, 9, 41];
  const corrupt = [5, 17, 301, 2, 9, 41];
  const [answer, wrong] = [12, 40];
  // Independent clean/corrupt metric: logits on the host.
  const host = async (ids: number[]) => {
    const logits = await model.forward([ids]);
    const last = ((await logits.array()) as number[][][])[0]![ids.length - 1]!;
    logits.dispose();
    return last[answer]! - last[wrong]!;
  };
  const before = tf.memory().numTensors;
  const runs: PatchJson[] = [];
  for (const [hook, by] of [['resid_pre', undefined], ['z', 'head']] as const) {
    const r = cliJson<PatchJson>('patch', '--model', FIXTURE, '--ids-clean', clean.join(','), '--ids-corrupt', corrupt.join(','), '--answer-id', String(answer), '--wrong-id', String(wrong), '--hook', hook, ...(by ? ['--by', by] : []), '--out', join(dir, 'patch'));
    assert.equal(r.by, by ?? 'pos');
    close(r.cleanLogitDiff, await host(clean), 1e-5, 'clean logit diff');
    close(r.corruptLogitDiff, await host(corrupt), 1e-5, 'corrupt logit diff');
    const scan = await patchScan(model, [clean], [corrupt], { hook, by: by ?? 'pos', metric: logitDiffMetric(answer, wrong) });
    assert.deepEqual(r.layers, scan.layers);
    assert.deepEqual([r.layers.length, r.columns.length], scan.shape);
    const C = r.columns.length;
    for (let i = 0; i < scan.values.length; i++) {
      const got = r.values[Math.floor(i / C)]![i % C]!;
      close(got, scan.values[i]!, 1e-6, `${hook} entry ${i}`);
      close(r.normalized[Math.floor(i / C)]![i % C]!, (scan.values[i]! - r.corruptLogitDiff) / (r.cleanLogitDiff - r.corruptLogitDiff), 1e-5, `${hook} normalised ${i}`);
    }
    assertPng(r.files[0]!);
    runs.push(r);
  }
  // Patching the residual stream at the only changed position in block 0 restores the clean run exactly.
  const resid = runs[0]!;
  close(resid.normalized[0]![2]!, 1, 1e-4, 'block 0, position 2');
  close(resid.normalized[0]![0]!, 0, 1e-4, 'block 0, position 0');
  assert.equal(tf.memory().numTensors, before, 'reference computations leaked tensors');

  const unequal = cli('patch', '--model', FIXTURE, '--ids-clean', '1,2,3', '--ids-corrupt', '1,2', '--answer-id', '4', '--wrong-id', '5');
  assert.equal(unequal.status, 1);
  assert.match(unequal.stderr, /tfjs-lens: the clean prompt is 3 tokens and the corrupted prompt 2; patching needs equal lengths/);
  const noTokenizer = cli('patch', '--model', FIXTURE, '--clean', 'a b', '--corrupt', 'a c', '--answer-id', '4', '--wrong-id', '5');
  assert.equal(noTokenizer.status, 1);
  assert.match(noTokenizer.stderr, /no tokenizer[\s\S]*hint: pass token ids with --ids-clean/);
  const badBy = cli('patch', '--model', FIXTURE, '--ids-clean', '1,2', '--ids-corrupt', '1,3', '--answer-id', '4', '--wrong-id', '5', '--by', 'head');
  assert.equal(badBy.status, 1);
  assert.match(badBy.stderr, /--by head needs a per-head hook; 'resid_pre' has no head axis/);
});

interface ShortcutsJson {
  nTrain: number;
  nVal: number;
  seed: number;
  r2: { mat: (number | null)[][]; id: (number | null)[][] };
  fixedExit: Record<string, { precisionAt1: number[]; surprisal: number[] }>;
  files: { maps: string; report: string };
  figures: string[];
}

test('shortcuts --json: r² heatmaps and Precision@1 equal runMatPipeline; maps written as safetensors', async () => {
  const seqs = idSequences(11, 80, 3, 12);
  const file = join(dir, 'shortcut-ids.txt');
  writeFileSync(file, `${seqs.map((s) => s.join(' ')).join('\n')}\n`);
  const out = join(dir, 'shortcuts');
  const r = cliJson<ShortcutsJson>('shortcuts', '--model', FIXTURE, '--ids-file', file, '--n-train', '64', '--n-val', '14', '--seed', '2', '--batch', '8', '--out', out);
  assert.deepEqual([r.nTrain, r.nVal, r.seed], [64, 14, 2]);
  const before = tf.memory().numTensors;
  const lib = await runMatPipeline(model, seqs, { nTrain: 64, nVal: 14, seed: 2, batchSize: 8 });
  assert.equal(tf.memory().numTensors, before, 'runMatPipeline leaked tensors');
  const L = model.cfg.nLayers;
  for (const kind of ['mat', 'id'] as const) {
    for (let i = 0; i <= L; i++) for (let j = 0; j <= L; j++) close(r.r2[kind][i]![j]!, lib.r2[kind][i]![j]!, 1e-9, `r² ${kind} [${i}][${j}]`);
  }
  assert.deepEqual(Object.keys(r.fixedExit), Object.keys(lib.fixedExit));
  for (const [m, metrics] of Object.entries(lib.fixedExit)) {
    assert.deepEqual(r.fixedExit[m]!.precisionAt1, metrics!.precisionAt1, `Precision@1 of ${m}`);
    metrics!.surprisal.forEach((s, l) => close(r.fixedExit[m]!.surprisal[l]!, s, 1e-9, `surprisal ${m} ℓ=${l}`));
  }
  const maps = await readAllSafetensors(r.files.maps);
  assert.ok(maps.has('0_3') && maps.has('2_3') && maps.has('pi_0_0'));
  assert.deepEqual(maps.get('0_3')!.shape, [64, 64]);
  assert.ok(existsSync(r.files.report));
  assert.equal(r.figures.length, 3);
  for (const f of r.figures) assertPng(f);
  const tooMany = cli('shortcuts', '--model', FIXTURE, '--ids-file', file, '--n-train', '70', '--n-val', '20', '--out', out);
  assert.equal(tooMany.status, 1);
  assert.match(tooMany.stderr, /has 80 usable sequences, but --n-train 70 \+ --n-val 20 need 90/);
});

interface ProbeJson {
  examples: { total: number; kept: number };
  data: { nSamples: number; K: number; probeK: number; classCounts: number[]; J0: number };
  chance: number;
  probe: { meanBalancedAccuracy: number; semBalancedAccuracy: number; folds: number[] };
  controls: { randomEmbeddings: { meanBalancedAccuracy: number; semBalancedAccuracy: number }; labelShuffle: { meanBalancedAccuracy: number; semBalancedAccuracy: number } };
}

test('probe --json: balanced accuracy ± SEM of the probe and both controls equal runProbeExperiment', async () => {
  const seqs = idSequences(21, 30, 6, 14);
  const file = join(dir, 'probe-ids.txt');
  writeFileSync(file, `${seqs.map((s) => s.join(',')).join('\n')}\n`);
  const r = cliJson<ProbeJson>('probe', '--model', FIXTURE, '--ids-file', file, '--J0', '0', '--K', '3', '--probe-k', '3', '--min-per-layer', '3', '--folds', '3', '--seed', '4');
  const before = tf.memory().numTensors;
  const lib = await runProbeExperiment(model, seqs, { J0: 0, K: 3, probeK: 3, k: 5, minPerLayer: 3, folds: 3, seed: 4, batchSize: 1 });
  assert.equal(tf.memory().numTensors, before, 'runProbeExperiment leaked tensors');
  assert.deepEqual(r.examples, lib.examples);
  assert.equal(r.examples.total, seqs.reduce((s, q) => s + q.length, 0));
  assert.deepEqual([r.data.nSamples, r.data.K, r.data.probeK, r.data.J0], [lib.data.nSamples, 3, 3, 0]);
  assert.deepEqual(r.data.classCounts, lib.data.classCounts);
  assert.equal(r.chance, 1 / 3);
  close(r.probe.meanBalancedAccuracy, lib.probe.meanBalancedAccuracy, 1e-12, 'probe');
  close(r.probe.semBalancedAccuracy, lib.probe.semBalancedAccuracy, 1e-12, 'probe SEM');
  assert.equal(r.probe.folds.length, 3);
  close(r.controls.randomEmbeddings.meanBalancedAccuracy, lib.controls.randomEmbeddings!.meanBalancedAccuracy, 1e-12, 'random embeddings');
  close(r.controls.labelShuffle.meanBalancedAccuracy, lib.controls.labelShuffle!.meanBalancedAccuracy, 1e-12, 'label shuffle');
  close(r.controls.labelShuffle.semBalancedAccuracy, lib.controls.labelShuffle!.semBalancedAccuracy, 1e-12, 'label shuffle SEM');
  const table = cli('probe', '--model', FIXTURE, '--ids-file', file, '--max-examples', '20', '--J0', '0', '--K', '3', '--probe-k', '3', '--min-per-layer', '3', '--folds', '3');
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^probe\s+0\.\d{3} ± 0\.\d{3}/m);
  assert.match(table.stdout, /^random embeddings\s+0\.\d{3} ± /m);
  assert.match(table.stdout, /^shuffled labels\s+0\.\d{3} ± /m);
  const badJ0 = cli('probe', '--model', FIXTURE, '--ids-file', file);
  assert.equal(badJ0.status, 1);
  assert.match(badJ0.stderr, /--J0 5 must be at most L−1 = 2/);
});

test('text input on the shipped tiny GPT-2: sentences are tokenised per line; patch tokenises prompts and answers', { skip: !existsSync(join(SHIPPED, 'model.safetensors')) && 'weights/tiny-gpt2 is not there' }, async () => {
  // A private copy, so that the CLI runs and this process read the same weights even while they are retrained.
  const copy = join(dir, 'tiny-gpt2');
  cpSync(SHIPPED, copy, { recursive: true });
  const shipped = await loadModel(copy);
  assert.ok(shipped instanceof HookedGPT2 && shipped.tokenizer);
  const tok = shipped.tokenizer;
  try {
    const sentences = join(ROOT, 'data', 'text', 'sentences.txt');
    const lines = readFileSync(sentences, 'utf8').split(/\r?\n/).filter((l) => l.trim()).slice(0, 4);
    const sat = cliJson<{ input: { sequences: number; source: string }; positions: number }>('saturation', '--model', copy, '--text-file', sentences, '--max-examples', '4', '--reps', '20', '--k', '2', '--out', join(dir, 'sat-text'));
    assert.deepEqual(sat.input, { ...sat.input, sequences: 4, source: 'text' });
    assert.equal(sat.positions, lines.reduce((s, l) => s + Math.min(tok.encode(l).length, shipped.cfg.nCtx), 0));

    const clean = 'When Mary and John went to the store, John gave a drink to';
    const corrupt = 'When Mary and John went to the store, Mary gave a drink to';
    const r = cliJson<PatchJson & { cleanIds: number[]; answer: { id: number } }>('patch', '--model', copy, '--clean', clean, '--corrupt', corrupt, '--answer', ' Mary', '--wrong', ' John', '--hook', 'z', '--out', join(dir, 'patch-text'));
    assert.deepEqual(r.cleanIds, tok.encode(clean));
    assert.deepEqual(tok.encode(' Mary'), [r.answer.id]);
    const scan = await patchScan(shipped, [tok.encode(clean)], [tok.encode(corrupt)], { hook: 'z', metric: logitDiffMetric(tok.encode(' Mary')[0]!, tok.encode(' John')[0]!) });
    for (let i = 0; i < scan.values.length; i++) close(r.values[Math.floor(i / r.columns.length)]![i % r.columns.length]!, scan.values[i]!, 1e-5, `entry ${i}`);
    const unequal = cli('patch', '--model', copy, '--clean', 'The cat sat', '--corrupt', 'The elephantine creature sat', '--answer', ' on', '--wrong', ' in');
    assert.equal(unequal.status, 1);
    assert.match(unequal.stderr, /patching needs equal lengths \(clean: 'The' ' cat' ' sat'; corrupt: /);
    const multi = cli('patch', '--model', copy, '--clean', 'a b', '--corrupt', 'a c', '--answer', ' Constantinople', '--wrong', ' x');
    assert.equal(multi.status, 1);
    assert.match(multi.stderr, /--answer " Constantinople" is \d+ tokens/);
  } finally {
    shipped.dispose();
  }
});
