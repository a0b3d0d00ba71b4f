/**
 * CLI options that had no test: `lens --text / --position / --audio`, `hooks --markdown`, `heads --bos` and the
 * `bench` command, each compared with numbers computed here: the lens from a cache (softmax and sort on the host),
 * token ids from the second tokenizer implementation (vocab.json + merges.txt), Whisper on HF's features of the
 * same WAV, attention scores from cached patterns on tokens drawn with the reference generator, the parameter
 * count from the checkpoint file.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { HookedWhisper } from '../../lib/nn/whisper.js';
import { residNamesFilter, logitLens } from '../../lib/lens/logit-lens.js';
import { loadVocabMergesTokenizer } from '../../lib/data/tokenizer.js';
import { readAllSafetensors } from '../../lib/io/safetensors.js';
import { ROOT, fixtureDir } from '../helpers/fixtures.js';
import { cli, cliJson } from '../helpers/cli.js';

const SHIPPED = join(ROOT, 'weights', 'tiny-gpt2');
import { ReferenceXoshiro } from '../helpers/reference.js';
import { fullLengthWhisperDir } from '../helpers/whisper.js';
import { defaultTierOnly, testBackend } from '../helpers/backend.js';


interface LensJson {
  tokens?: string[];
  position: number;
  layers: { layer: string; top: { id: number; prob: number }[] }[];
}

/** Host top-k (prob desc, id asc) of `lens [L+1, 1, T, V]` at position p. */
async function hostTopK(lens: tf.Tensor, p: number, k: number): Promise<{ id: number; p: number }[][]> {
  const probs = tf.tidy(() => tf.softmax(tf.squeeze(tf.slice(lens, [0, 0, p, 0], [-1, 1, 1, -1]), [1, 2])).arraySync()) as number[][];
  return probs.map((row) => row.map((pr, id) => ({ p: pr, id })).sort((a, b) => b.p - a.p || a.id - b.id).slice(0, k));
}

function sameTop(got: LensJson, want: { id: number; p: number }[][], what: string): void {
  assert.equal(got.layers.length, want.length, `${what}: layers`);
  want.forEach((row, l) => {
    assert.deepEqual(got.layers[l]!.top.map((t) => t.id), row.map((o) => o.id), `${what}: layer ${l}`);
    got.layers[l]!.top.forEach((t, r) => assert.ok(Math.abs(t.prob - row[r]!.p) < 1e-5, `${what}: layer ${l} rank ${r}`));
  });
}

let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cli-options-'));
  await setBackend(testBackend('cpu'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('lens --position p / −p lenses that position of the sequence', async () => {
  const ids = [5, 17, 300, 2, 9, 41];
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const { output, cache } = await model.runWithCache([ids], { namesFilter: residNamesFilter(model) });
  const lens = logitLens(model, cache);
  for (const [arg, p] of [['2', 2], ['-3', 3], ['0', 0]] as const) {
    const r = cliJson<LensJson>('lens', '--model', fixtureDir('gpt2-tiny'), '--ids', ids.join(','), '--top', '4', '--position', arg);
    assert.equal(r.position, p, `--position ${arg}`);
    sameTop(r, await hostTopK(lens, p, 4), `--position ${arg}`);
  }
  const out = cli('lens', '--model', fixtureDir('gpt2-tiny'), '--ids', ids.join(','), '--position', '6');
  assert.equal(out.status, 1);
  assert.match(out.stderr, /position/);
  tf.dispose([output, lens]);
  cache.dispose();
  model.dispose();
});

test('lens --text tokenises with the checkpoint tokenizer: same result as --ids from vocab.json + merges.txt', { skip: !existsSync(join(SHIPPED, 'merges.txt')) && 'no shipped model' }, async () => {
  const text = 'Once upon a time, the little cat sat on the mat';
  const bpe = await loadVocabMergesTokenizer(SHIPPED);
  const ids = bpe.encode(text);
  assert.ok(ids.length >= 8);
  const viaText = cliJson<LensJson>('lens', '--model', SHIPPED, '--text', text, '--top', '3');
  const viaIds = cliJson<LensJson>('lens', '--model', SHIPPED, '--ids', ids.join(','), '--top', '3');
  assert.equal(viaText.position, ids.length - 1);
  assert.deepEqual(viaText.tokens, ids.map((id) => bpe.decode([id])));
  assert.deepEqual(viaText.layers, viaIds.layers);
  // The library lens on those ids.
  const model = (await loadModel(SHIPPED)) as HookedGPT2;
  const { output, cache } = await model.runWithCache([ids], { namesFilter: residNamesFilter(model) });
  const lens = logitLens(model, cache);
  sameTop(viaText, await hostTopK(lens, ids.length - 1, 3), '--text');
  tf.dispose([output, lens]);
  cache.dispose();
  model.dispose();
});

test('lens --audio (Whisper): the decoder lens of the WAV equals the lens on HF\'s features of that WAV', async () => {
  const whisperDir = await fullLengthWhisperDir();
  try {
    const wav = join(fixtureDir('whisper-features-80'), 'audio.wav');
    const ids = [1, 7, 42, 3, 99];
    // wasm: the 30 s encoder is five times faster there than on the pure-JS cpu backend.
    const r = cliJson<LensJson>('lens', '--model', whisperDir, '--audio', wav, '--ids', ids.join(','), '--top', '3', '--backend', 'wasm');
    await setBackend(testBackend('wasm'));
    assert.equal(r.position, 4, 'the last decoder position');
    const model = await loadModel(whisperDir);
    assert.ok(model instanceof HookedWhisper);
    const f = (await readAllSafetensors(join(fixtureDir('whisper-features-80'), 'expected.safetensors'))).get('input_features_from_wav')!;
    const { output, cache } = await model.runWithCache({ inputFeatures: { data: f.data as Float32Array, shape: f.shape as [number, number, number] }, decoderInputIds: [ids] }, { namesFilter: residNamesFilter(model) });
    const lens = logitLens(model, cache);
    sameTop(r, await hostTopK(lens, 4, 3), '--audio');
    tf.dispose([output, lens]);
    cache.dispose();
    model.dispose();
  } finally {
    await setBackend(testBackend('cpu'));
    rmSync(whisperDir, { recursive: true, force: true });
  }
});

test('lens --audio on a text model is an error naming the models that take audio', () => {
  const r = cli('lens', '--model', fixtureDir('gpt2-tiny'), '--ids', '1,2', '--audio', join(fixtureDir('whisper-features-80'), 'audio.wav'));
  assert.equal(r.status, 1, 'a WAV given to a text model is an error');
  assert.match(r.stderr, /--audio is for Whisper models/);
});

test('hooks --markdown lists every hook of the model with the shape of a cached run, as docs/hooks.md shows it', defaultTierOnly(), async () => {
  const doc = readFileSync(join(ROOT, 'docs', 'hooks.md'), 'utf8');
  for (const name of ['gpt2-tiny', 'vit-tiny', 'whisper-tiny', 'bert-tiny', 'pythia-tiny', 'gemma3-tiny']) {
    const r = cli('hooks', '--model', fixtureDir(name), '--markdown');
    assert.equal(r.status, 0, r.stderr);
    // docs/hooks.md has one section per fixture, generated by this command: it must still say what the code does.
    const section = doc.split(`\n## ${name}\n`)[1]?.split('\n## ')[0]?.trim();
    assert.equal(section, r.stdout.trim(), `docs/hooks.md section '${name}' differs from hooks --markdown`);
    const rows = [...r.stdout.matchAll(/^\| `([^`]+)` \| (\[[\d, ]+\]) \|$/gm)].map((m) => [m[1]!, m[2]!]);
    assert.match(r.stdout, /^\| hook \| shape \|\n\|---\|---\|$/m);
    const json = cliJson<Record<string, string>>('hooks', '--model', fixtureDir(name));
    assert.deepEqual(Object.fromEntries(rows), json);
    const model = await loadModel(fixtureDir(name));
    assert.deepEqual(rows.map(([n]) => n), model.hookNames());
    const example = Object.keys(json).find((k) => k.endsWith('blocks.1.attn.hook_pattern'))!;
    const [, H, T, T2] = JSON.parse(json[example]!) as number[];
    assert.equal(H, name === 'pythia-tiny' ? 2 : 4); // the fixtures' head counts
    assert.equal(T, T2);
    model.dispose();
  }
});

test('heads --bos: every sequence starts with that id; scores equal the cached patterns on those tokens', async () => {
  const N = 10;
  const batch = 2;
  const bos = 7;
  const r = cliJson<{ tokens: { bos: number }; scores: { induction: number[][]; previousToken: number[][] } }>('heads', '--model', fixtureDir('gpt2-tiny'), '--n-tokens', String(N), '--batch', String(batch), '--seed', '3', '--bos', String(bos), '--out', join(dir, 'heads'));
  assert.equal(r.tokens.bos, bos);
  // BOS, N uniform draws over the vocabulary, the same N again (per row, one generator for the batch).
  const rng = new ReferenceXoshiro(3);
  const rows = Array.from({ length: batch }, () => {
    const first = Array.from({ length: N }, () => rng.below(1000));
    return [bos, ...first, ...first];
  });
  const model = (await loadModel(fixtureDir('gpt2-tiny'))) as HookedGPT2;
  const { output, cache } = await model.runWithCache(rows, { namesFilter: (n) => n.endsWith('attn.hook_pattern') });
  const T = 2 * N + 1;
  for (let l = 0; l < model.nLayers; l++) {
    const pattern = cache.get(`blocks.${l}.attn.hook_pattern`).arraySync() as number[][][][];
    for (let h = 0; h < 4; h++) {
      let induction = 0;
      let prev = 0;
      for (const row of pattern) {
        for (let q = N - 1; q <= 2 * N; q++) induction += row[h]![q]![q - N + 1]!;
        for (let q = 1; q < T; q++) prev += row[h]![q]![q - 1]!;
      }
      assert.ok(Math.abs(r.scores.induction[l]![h]! - induction / (batch * (N + 2))) < 1e-5, `induction L${l}H${h}`);
      assert.ok(Math.abs(r.scores.previousToken[l]![h]! - prev / (batch * (T - 1))) < 1e-5, `previous-token L${l}H${h}`);
    }
  }
  tf.dispose(output);
  cache.dispose();
  model.dispose();
  const other = cliJson<{ scores: { induction: number[][] } }>('heads', '--model', fixtureDir('gpt2-tiny'), '--n-tokens', String(N), '--batch', String(batch), '--seed', '3', '--bos', '8', '--out', join(dir, 'heads'));
  assert.notDeepEqual(other.scores.induction, r.scores.induction, 'the BOS id reaches the model');
  const bad = cli('heads', '--model', fixtureDir('gpt2-tiny'), '--bos', '1000', '--out', join(dir, 'heads'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /1000/);
});

interface Stat {
  n: number;
  min: number;
  median: number;
  max: number;
  mean: number;
}

test('bench on a checkpoint: parameter count from the file, timing statistics consistent with each other, --out and --chart written', () => {
  const out = join(dir, 'bench.json');
  const chart = join(dir, 'bench.svg');
  const r = cliJson<{ schema: string; backend: string; model: { params: number; source: string }; settings: { batch: number; seq: number; iters: number }; tokensPerItem: number; forward: { ms: Stat; tokensPerSecond: Stat }; blocks: { name: string; ms: Stat; parts: { part: string; ms: Stat }[] }[] }>(
    'bench', '--model', fixtureDir('gpt2-tiny'), '--batch', '2', '--seq', '16', '--iters', '3', '--warmup', '1', '--layers', '0,2', '--no-memory', '--out', out, '--chart', chart,
  );
  assert.equal(r.schema, 'tfjs-lens-bench/1');
  assert.equal(r.backend, testBackend('cpu'));
  // Parameters: every tensor of the checkpoint except the tied lm_head and attention buffers.
  const file = readFileSync(join(fixtureDir('gpt2-tiny'), 'model.safetensors'));
  const header = JSON.parse(file.subarray(8, 8 + Number(file.readBigUInt64LE(0))).toString('utf8')) as Record<string, { shape: number[] }>;
  const params = Object.entries(header).filter(([k]) => k !== '__metadata__' && k !== 'lm_head.weight' && !/\.attn\.(masked_)?bias$/.test(k)).reduce((s, [, v]) => s + v.shape.reduce((a, b) => a * b, 1), 0);
  assert.equal(r.model.params, params);
  assert.deepEqual([r.settings.batch, r.settings.seq, r.settings.iters, r.tokensPerItem], [2, 16, 3, 16]);
  const ms = r.forward.ms;
  assert.equal(ms.n, 3);
  assert.ok(ms.min > 0 && ms.min <= ms.median && ms.median <= ms.max && ms.min <= ms.mean && ms.mean <= ms.max);
  // Throughput is tokens (batch × seq) per second of the same runs: its max comes from the fastest run.
  assert.ok(Math.abs(r.forward.tokensPerSecond.max - (2 * 16 * 1000) / ms.min) < 1e-6 * r.forward.tokensPerSecond.max);
  assert.deepEqual(r.blocks.map((b) => b.name), ['blocks.0', 'blocks.2']);
  for (const b of r.blocks) {
    assert.ok(b.ms.min > 0 && b.ms.median < ms.max, `${b.name} is timed, and faster than the whole forward`);
    assert.deepEqual(b.parts.map((p) => p.part).sort(), ['attn', 'mlp']);
  }
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')).forward, r.forward, '--out holds the same result');
  assert.match(readFileSync(chart, 'utf8'), /^<svg|<\?xml/);
  const bad = cli('bench', '--model', fixtureDir('gpt2-tiny'), '--iters', '0');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--iters/);
});
