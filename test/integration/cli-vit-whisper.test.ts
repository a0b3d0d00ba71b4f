/**
 * `saturation` and `probe` on ViT (`--images`: CIFAR batches, class folders, the shipped flat folder) and
 * Whisper (`--audio`: the shipped transcripts.tsv folder, teacher-forced) with the tiny fixtures. The
 * saturation layers are recomputed here from a full host sort of `logitLens` (every class / token ranked,
 * ties to the lower id) over inputs built in this file, and compared with the CLI's JSON and with the
 * library's per-example `chunkedSaturation`; the probe JSON is compared with `runProbeExperiment`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedViT } from '../../lib/nn/vit.js';
import { HookedWhisper } from '../../lib/nn/whisper.js';
import { logitLens, residNamesFilter, type HookedLensModel } from '../../lib/lens/logit-lens.js';
import { filterBySaturation, saturationLayers } from '../../lib/lens/saturation.js';
import { meanTauPermutationTest } from '../../lib/lens/order.js';
import { betterLmExample, betterLmGroups, type BetterLmExample } from '../../lib/lens/better-lm.js';
import { InputChunks } from '../../lib/lens/topk.js';
import { buildProbeDataset, runProbeExperiment } from '../../lib/probes/index.js';
import { vitPixelValuesBatch } from '../../lib/data/image.js';
import { whisperFeatures } from '../../lib/data/audio.js';
import { readWav } from '../../lib/data/wav.js';
import { resampleSinc } from '../../lib/data/resample.js';
import { loadTokenizer } from '../../lib/data/tokenizer.js';
import { chunkedExamples } from '../../lib/cli/model-examples.js';
import { chunkedSaturation } from '../../lib/cli/saturation-chunks.js';
import { teacherForcedIds } from '../../lib/cli/audio-examples.js';
import { ROOT, fixtureDir } from '../helpers/fixtures.js';
import { cli, cliJson } from '../helpers/cli.js';
import { testBackend } from '../helpers/backend.js';
import { SHIPPED_AUDIO as AUDIO, SHIPPED_TRANSCRIPTS as TABLE, libriSpeechTree } from '../helpers/speech-datasets.js';
import { cifarBytes, seededImages, writeClassFolders, type TestImage } from '../helpers/image-datasets.js';

const VIT = fixtureDir('vit-tiny');
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

interface SaturationJson {
  input: { source: string; sequences: number; truncated: number };
  L: number;
  positions: number;
  meanSaturation: number[];
  s0Histogram: number[];
  filter: { maxS0: number; kept: number };
  rankCorrespondence: { perRank: { n: number; meanPosition: number | null }[] };
  kendall: { meanTau: number | null; p: number | null; nUsed: number; nSkipped: number };
  betterLm: { positions: number; top1Correct: number; neither: number; groupA: { count: number; rank2Correct: number }; groupB: { count: number } } | null;
  files: string[];
}

interface ProbeJson {
  input: { source: string; sequences: number };
  examples: { total: number; kept: number };
  featureSpace: string;
  data: { nSamples: number; classCounts: number[] };
  probe: { meanBalancedAccuracy: number; semBalancedAccuracy: number };
  controls: { randomEmbeddings: { meanBalancedAccuracy: number }; labelShuffle: { meanBalancedAccuracy: number } };
}

let dir: string;
let vit: HookedViT;
let whisper: HookedWhisper;
let whisperDir: string;
let images: TestImage[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cli-vit-whisper-'));
  await setBackend(testBackend('cpu'));
  const v = await loadModel(VIT);
  assert.ok(v instanceof HookedViT);
  vit = v;
  // The tiny Whisper fixture ships no tokenizer: a copy with the fixture tokenizer (specials at the config's ids).
  whisperDir = join(dir, 'whisper-tiny');
  cpSync(fixtureDir('whisper-tiny'), whisperDir, { recursive: true });
  cpSync(join(fixtureDir('whisper-tiny-tokenizer'), 'tokenizer.json'), join(whisperDir, 'tokenizer.json'));
  const w = await loadModel(whisperDir);
  assert.ok(w instanceof HookedWhisper && w.tokenizer);
  whisper = w;
  images = seededImages(11, 48);
  mkdirSync(join(dir, 'cifar'));
  writeFileSync(join(dir, 'cifar', 'data_batch_1.bin'), cifarBytes(images, 'cifar10'));
  writeFileSync(join(dir, 'cifar', 'batches.meta.txt'), `${CLASSES.join('\n')}\n`);
  writeClassFolders(join(dir, 'folders'), images, CLASSES);
});

after(() => {
  vit.dispose();
  whisper.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** `[k]` ids of a logits row sorted by (value desc, id asc). */
function hostTopK(row: ArrayLike<number>, k: number): number[] {
  return Array.from(row, (v, id) => ({ v, id })).sort((a, b) => b.v - a.v || a.id - b.id).slice(0, k).map((x) => x.id);
}

/** Per image `[L][k]` rank tables of the ViT class lens (CLS) of h_1 … h_L, by a host sort of `logitLens`. */
async function vitRanks(rgbs: readonly TestImage[], k: number): Promise<number[][][]> {
  const pixels = vitPixelValuesBatch(rgbs.map((im) => ({ width: 32, height: 32, rgb: im.rgb })), { size: 32 });
  const { output, cache } = await vit.runWithCache(pixels, { namesFilter: residNamesFilter(vit) });
  const lens = logitLens(vit, cache); // [L+1, batch, classes]
  const values = (await lens.array()) as number[][][];
  tf.dispose([pixels, output, lens]);
  cache.dispose();
  return rgbs.map((_, b) => Array.from({ length: vit.nLayers }, (_, j) => hostTopK(values[j + 1]![b]!, k)));
}

/** Per decoder position `[L][k]` rank tables of the Whisper decoder lens of one clip. */
async function whisperRanks(samples: Float32Array, ids: number[], k: number): Promise<number[][][]> {
  const features = whisperFeatures(samples, { nMels: 80, nSamples: 2 * whisper.cfg.maxSourcePositions * 160 });
  const { output, cache } = await whisper.runWithCache({ inputFeatures: features, decoderInputIds: [ids] }, { namesFilter: residNamesFilter(whisper) });
  const lens = logitLens(whisper, cache); // [L+1, 1, T, V]
  const values = (await lens.array()) as number[][][][];
  tf.dispose([features, output, lens]);
  cache.dispose();
  return ids.map((_, p) => Array.from({ length: whisper.nLayers }, (_, j) => hostTopK(values[j + 1]![0]![p]!, k)));
}

function close(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

function checkSaturation(r: SaturationJson, S: number[][], L: number, k: number, what: string): void {
  assert.equal(r.L, L, what);
  assert.equal(r.positions, S.length, what);
  for (let rank = 0; rank < k; rank++) close(r.meanSaturation[rank]!, S.reduce((s, row) => s + row[rank]!, 0) / S.length, `${what} mean s_${rank}`);
  assert.deepEqual(r.s0Histogram, Array.from({ length: L }, (_, j) => S.filter((row) => row[0] === j).length), `${what} s_0 histogram`);
  assert.equal(r.filter.kept, filterBySaturation(S, L).kept.length, `${what} kept`);
}

test('saturation --images (CIFAR batch): §1 layers equal a host-sorted class lens; class folders of the same pixels give the same statistics', async () => {
  const k = 4;
  const r = cliJson<SaturationJson>('saturation', '--model', VIT, '--images', join(dir, 'cifar'), '--k', String(k), '--reps', '200', '--seed', '5', '--batch', '20', '--out', join(dir, 'sat-vit'));
  const before = tf.memory().numTensors;
  const ranks = await vitRanks(images, k);
  assert.equal(tf.memory().numTensors, before, 'reference lens leaked tensors');
  const S = ranks.map((table) => saturationLayers(table));
  assert.deepEqual(r.input, { ...r.input, source: 'images', sequences: images.length, truncated: 0 });
  checkSaturation(r, S, vit.nLayers, k, 'CIFAR');
  assert.ok(new Set(S.map((row) => row.join())).size > 1, 'the images do not all saturate alike');
  const tau = meanTauPermutationTest(filterBySaturation(S, vit.nLayers).kept, vit.nLayers, { reps: 200, seed: 5 });
  assert.equal(r.kendall.nUsed, tau.nUsed);
  if (tau.nUsed) close(r.kendall.meanTau, tau.meanTau, 'mean τ');
  assert.equal(r.betterLm, null, 'ViT has no next token');
  // The library's per-example table, chunk by chunk, equals the host one.
  const ex = await chunkedExamples(vit, VIT, { images: join(dir, 'cifar'), batch: 7, maxExamples: 10 });
  const lib = await chunkedSaturation(ex!, k, false);
  assert.deepEqual(lib.S, S.slice(0, 10));
  assert.equal(tf.memory().numTensors, before, 'chunkedSaturation leaked tensors');
  // The same pixels as PNG class folders (listed by class): the order-free statistics agree.
  const f = cliJson<SaturationJson>('saturation', '--model', VIT, '--images', join(dir, 'folders'), '--k', String(k), '--reps', '20', '--out', join(dir, 'sat-vit-folders'));
  assert.deepEqual([f.meanSaturation, f.s0Histogram, f.filter, f.rankCorrespondence.perRank], [r.meanSaturation, r.s0Histogram, r.filter, r.rankCorrespondence.perRank]);
  if (tau.nUsed) close(f.kendall.meanTau, tau.meanTau, 'mean τ of the class folders');
  // The shipped flat folder, two at a time, and the text report.
  const shipped = cli('saturation', '--model', VIT, '--images', join(ROOT, 'data', 'images'), '--max-examples', '5', '--batch', '2', '--reps', '10', '--out', join(dir, 'sat-vit-shipped'));
  assert.equal(shipped.status, 0, shipped.stderr);
  assert.match(shipped.stdout, /^5 images from .*data\/images, 5 examples \(the CLS position\), L = 2 blocks, k = 5$/m);
});

test('saturation --audio (Whisper, teacher-forced): §1 layers and §6 groups equal a host-sorted decoder lens', async () => {
  const k = 3;
  const r = cliJson<SaturationJson>('saturation', '--model', whisperDir, '--audio', AUDIO, '--k', String(k), '--reps', '50', '--out', join(dir, 'sat-whisper'));
  const tok = await loadTokenizer(join(fixtureDir('whisper-tiny-tokenizer')));
  const S: number[][] = [];
  const records: BetterLmExample[] = [];
  let truncated = 0;
  const before = tf.memory().numTensors;
  for (const [file, text] of TABLE) {
    // <|startoftranscript|> 1, <|notimestamps|> 3, the transcript, <|endoftext|> 2; cut to the decoder's 32 positions.
    const full = [1, 3, ...tok.encode(text), 2];
    const ids = full.slice(0, whisper.cfg.maxTargetPositions);
    if (full.length > ids.length) truncated++;
    assert.deepEqual(teacherForcedIds(whisper, text).ids, ids, file);
    const wav = readWav(join(AUDIO, file));
    const samples = wav.sampleRate === 16000 ? wav.samples : resampleSinc(wav.samples, wav.sampleRate, 16000);
    const ranks = await whisperRanks(samples, ids, k);
    ranks.forEach((table, p) => {
      S.push(saturationLayers(table));
      if (p + 1 < ids.length) records.push(betterLmExample(table, ids[p + 1]!));
    });
  }
  assert.equal(tf.memory().numTensors, before, 'reference lens leaked tensors');
  assert.deepEqual(r.input, { ...r.input, source: 'audio', sequences: TABLE.length, truncated });
  checkSaturation(r, S, whisper.nLayers, k, 'Whisper');
  const groups = betterLmGroups(records, whisper.nLayers);
  assert.deepEqual(r.betterLm, { ...r.betterLm!, positions: records.length, top1Correct: groups.top1Correct, neither: groups.neither });
  assert.equal(r.betterLm!.groupA.count, groups.groupA.count);
  assert.equal(r.betterLm!.groupA.rank2Correct, groups.groupA.rank2Correct);
  // The same clips as LibriSpeech FLAC (decoded bit-exactly to the WAV samples) give the same JSON.
  const flacRoot = libriSpeechTree('flac', { upperCase: false });
  const f = cliJson<SaturationJson>('saturation', '--model', whisperDir, '--audio', flacRoot, '--k', String(k), '--reps', '50', '--out', join(dir, 'sat-whisper-flac'));
  rmSync(flacRoot, { recursive: true, force: true });
  assert.deepEqual({ ...f, input: undefined, files: undefined }, { ...r, input: undefined, files: undefined });
});

test('probe --images / --audio: the JSON equals runProbeExperiment on the same chunks; original feature space per model', async () => {
  const args = ['--J0', '0', '--K', '2', '--probe-k', '2', '--min-per-layer', '2', '--folds', '2', '--seed', '3'];
  const opts = { J0: 0, K: 2, probeK: 2, k: 5, minPerLayer: 2, folds: 2, seed: 3 };
  const r = cliJson<ProbeJson>('probe', '--model', VIT, '--images', join(dir, 'cifar'), '--batch', '16', ...args);
  const before = tf.memory().numTensors;
  const pixels = vitPixelValuesBatch(images.map((im) => ({ width: 32, height: 32, rgb: im.rgb })), { size: 32 });
  const lib = await runProbeExperiment(vit, pixels, { ...opts, batchSize: 16 });
  assert.deepEqual(r.examples, lib.examples);
  assert.equal(r.examples.total, images.length);
  assert.deepEqual(r.data.classCounts, lib.data.classCounts);
  close(r.probe.meanBalancedAccuracy, lib.probe.meanBalancedAccuracy, 'ViT probe');
  close(r.controls.labelShuffle.meanBalancedAccuracy, lib.controls.labelShuffle!.meanBalancedAccuracy, 'ViT label shuffle');
  // ViT 'original': LN_f(h_{j+1}) below the last layer, raw h_L at it (one task, so that layer 0 has items too).
  const L = vit.nLayers;
  const one = { J0: 0, K: 1, k: 5, minPerLayer: 2, batchSize: 16 };
  const [resid, ln, original] = await Promise.all((['resid', 'lnFinal', 'original'] as const).map((featureSpace) => buildProbeDataset(vit, pixels, { ...one, featureSpace })));
  pixels.dispose();
  for (let i = 0; i < original.y.length; i++) {
    const from = original.layers[i] === L - 1 ? resid : ln;
    const d = original.X.shape[1];
    assert.deepEqual(original.X.data.subarray(i * d, (i + 1) * d), from.X.data.subarray(i * d, (i + 1) * d), `ViT sample ${i} (layer ${original.layers[i]})`);
  }
  assert.ok(new Set(original.layers).size === 2, 'both layers are in the ViT dataset');

  const w = cliJson<ProbeJson>('probe', '--model', whisperDir, '--audio', AUDIO, '--feature-space', 'original', ...args);
  const ex = await chunkedExamples(whisper, whisperDir, { audio: AUDIO, batch: 1 });
  const wlib = await runProbeExperiment(whisper as HookedLensModel<unknown>, ex!.chunks, { ...opts, featureSpace: 'original' });
  assert.equal(w.input.source, 'audio');
  assert.deepEqual(w.examples, wlib.examples);
  close(w.probe.meanBalancedAccuracy, wlib.probe.meanBalancedAccuracy, 'Whisper probe');
  // Whisper 'original' = LN_f at every layer = 'lnFinal'.
  const chunks = ex!.chunks as InputChunks<unknown>;
  const [wOriginal, wLn] = await Promise.all((['original', 'lnFinal'] as const).map((featureSpace) => buildProbeDataset(whisper as HookedLensModel<unknown>, chunks, { ...opts, featureSpace })));
  assert.deepEqual(wOriginal.X.data, wLn.X.data);
  assert.equal(tf.memory().numTensors, before, 'probe datasets leaked tensors');
});

test('collecting commands name the input each model takes', () => {
  const text = join(dir, 'one.txt');
  writeFileSync(text, 'hello\n');
  const vitText = cli('saturation', '--model', VIT, '--text-file', text);
  assert.equal(vitText.status, 1);
  assert.match(vitText.stderr, /--text-file is for GPT-2, Llama, GPT-NeoX and Gemma models; .*vit-tiny is a ViT model, which takes --images DIR/);
  const gptImages = cli('probe', '--model', fixtureDir('gpt2-tiny'), '--images', join(dir, 'cifar'));
  assert.equal(gptImages.status, 1);
  assert.match(gptImages.stderr, /--images is for ViT models \(images\); .*gpt2-tiny is a GPT-2 model/);
  const vitNone = cli('saturation', '--model', VIT);
  assert.equal(vitNone.status, 1);
  assert.match(vitNone.stderr, /is a ViT model: pass --images PATH/);
  const noTokenizer = cli('saturation', '--model', fixtureDir('whisper-tiny'), '--audio', AUDIO);
  assert.equal(noTokenizer.status, 1);
  assert.match(noTokenizer.stderr, /--audio needs the Whisper checkpoint's tokenizer \(tokenizer\.json\)/);
  const badBatch = cli('saturation', '--model', VIT, '--images', join(dir, 'cifar', 'batches.meta.txt'));
  assert.equal(badBatch.status, 1);
  assert.match(badBatch.stderr, /batches\.meta\.txt: is a file; --images takes a folder or a CIFAR binary batch \(\.bin\)/);
});
