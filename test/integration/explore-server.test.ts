/**
 * The explorer's server (lib/explore/) on the shipped tiny GPT-2: every view's API route against the library
 * functions called directly in this process (same numbers), the upload routes with real files (a shortcuts
 * run written by `runMatPipeline`, a probe log), and the refusals — malformed requests, wrong methods and
 * content types, oversized bodies (413), path traversal (`..`, `%2e%2e`, absolute paths), foreign Host
 * headers, a second heavy job (409) — after each of which the server still answers. A cancelled job stops
 * between layers.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { startExploreServer, type ExploreServer } from '../../lib/explore/server.js';
import { topKPerLayer } from '../../lib/lens/topk.js';
import { inductionScores, repeatedRandomTokens } from '../../lib/lens/attention.js';
import { patchScan } from '../../lib/lens/patching.js';
import { logitDiffMetric } from '../../lib/lens/metrics.js';
import { saturationLayers } from '../../lib/lens/saturation.js';
import { runMatPipeline } from '../../lib/shortcuts/index.js';
import type { LensGrid, TokenTrace } from '../../lib/explore/api-lens.js';
import type { HeadScoresReply, PatternReply } from '../../lib/explore/api-attention.js';
import type { PatchingReply } from '../../lib/explore/api-patching.js';
import type { SaturationReply } from '../../lib/explore/api-saturation.js';
import type { ProbeLogView, ShortcutsView } from '../../lib/explore/api-uploads.js';
import type { VitLensReply } from '../../lib/explore/api-vit.js';
import type { WhisperLensReply } from '../../lib/explore/api-whisper.js';
import { loadModel } from '../../lib/nn/load.js';
import type { HookedViT } from '../../lib/nn/vit.js';
import { vitPixelValues } from '../../lib/data/image.js';
import { logitLens, residNamesFilter } from '../../lib/lens/logit-lens.js';
import type { HookedWhisper } from '../../lib/nn/whisper.js';
import { decodeWav } from '../../lib/data/wav.js';
import { whisperFeatures } from '../../lib/data/audio.js';
import { ROOT, relError } from '../helpers/fixtures.js';
import { testBackend } from '../helpers/backend.js';
import { ensureExploreApp, jobResult, postJob, rawRequest, startExploreCli } from '../helpers/explore.js';

let server: ExploreServer;
let base: string;
const PROMPT = 'The capital city of France is';
const CLEAN = 'When Mary and John went to the store, John gave a drink to';
const CORRUPT = 'When Mary and John went to the store, Mary gave a drink to';

before(async () => {
  ensureExploreApp();
  server = await startExploreServer({ backend: testBackend('wasm'), limits: { maxJsonBytes: 16 * 1024, maxUploadBytes: 256 * 1024 } });
  base = server.url;
});
after(async () => {
  await server?.close();
});

async function stillAnswers(): Promise<void> {
  const r = await fetch(new URL('/api/info', base));
  assert.equal(r.status, 200);
  assert.equal(((await r.json()) as { nLayers: number }).nLayers, server.model.model.cfg.nLayers);
}

test('GET / serves the app page with its CSP; /api/info names the model and backend', async () => {
  const page = await fetch(base);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.match(await page.text(), /<script src="app.js">/);
  const js = await fetch(new URL('/app.js', base));
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  const info = (await (await fetch(new URL('/api/info', base))).json()) as { model: string; backend: string; nCtx: number };
  assert.equal(info.model, join(ROOT, 'weights', 'tiny-gpt2'));
  assert.match(info.backend, new RegExp(`^${testBackend('wasm')}`));
  assert.equal(info.nCtx, server.model.model.cfg.nCtx);
});

test('lens grid = topKPerLayer with the embedding row, and the token trace agrees with it', async () => {
  const m = server.model;
  const ids = m.tokenizer.encode(PROMPT);
  const before = tf.memory().numTensors;
  const grid = await jobResult<LensGrid>(base, '/api/lens', { text: PROMPT, k: 5 });
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked by the lens route');
  const ref = await topKPerLayer(m.model, [ids], { k: 5, includeEmbedding: true });
  assert.deepEqual(grid.ids, ids);
  assert.deepEqual(grid.layers, ref.layers);
  assert.deepEqual(grid.top.flat(2).map((e) => e.id), Array.from(ref.ids));
  assert.ok(relError(grid.top.flat(2).map((e) => e.prob), ref.probs) <= 1e-6);
  const L = m.model.cfg.nLayers;
  const last = grid.top[L]![ids.length - 1]![0]!;
  const trace = await jobResult<TokenTrace>(base, '/api/lens/token', { text: PROMPT, position: ids.length - 1, tokenId: last.id });
  assert.equal(trace.rank[L], 0, 'the final top-1 has rank 0 at h_L');
  assert.ok(Math.abs(trace.prob[L]! - last.prob) <= 1e-5 * Math.max(1e-3, last.prob), `${trace.prob[L]} vs ${last.prob}`);
  for (let l = 0; l <= L; l++) {
    const row = grid.top[l]![ids.length - 1]!;
    const at = row.findIndex((e) => e.id === last.id);
    if (at >= 0) assert.equal(trace.rank[l], at, `rank at h${l} agrees with the grid's top-k`);
    else assert.ok(trace.rank[l]! >= 5, `h${l}: outside the top-5 in the grid, rank ${trace.rank[l]}`);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked by the trace route');
});

test('head scores = inductionScores on the same seeded tokens; a pattern is causal and rows sum to 1', async () => {
  const m = server.model;
  const r = await jobResult<HeadScoresReply>(base, '/api/attention/heads', { batch: 4, seed: 3 });
  const tokens = repeatedRandomTokens({ nTokens: r.nTokens, batch: 4, vocab: m.model.cfg.dVocab, bos: r.bos, seed: 3 });
  const ref = await inductionScores(m.model, tokens);
  const firstRow = tf.slice(tokens, [0, 0], [1, -1]);
  const first = Array.from((await firstRow.data()) as Int32Array);
  firstRow.dispose();
  tokens.dispose();
  assert.ok(relError(r.scores.induction.flat(), ref.data) <= 1e-6);
  assert.deepEqual(r.firstSequence, first);
  const p = await jobResult<PatternReply>(base, '/api/attention/pattern', { ids: r.firstSequence.slice(0, 21), layer: 1, head: 2 });
  assert.equal(p.pattern.length, 21);
  for (const [q, row] of p.pattern.entries()) {
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${q} sums to 1`);
    for (let k = q + 1; k < row.length; k++) assert.ok(row[k]! < 1e-7, `causal: ${q}→${k} is ${row[k]}`);
  }
});

test('patching by block = one patchScan over all blocks (values and normalisation)', async () => {
  const m = server.model;
  const r = await jobResult<PatchingReply>(base, '/api/patching', { clean: CLEAN, corrupt: CORRUPT, answer: ' Mary', wrong: ' John', hook: 'resid_pre' });
  const ref = await patchScan(m.model, [m.tokenizer.encode(CLEAN)], [m.tokenizer.encode(CORRUPT)], { hook: 'resid_pre', metric: logitDiffMetric(m.tokenizer.encode(' Mary')[0]!, m.tokenizer.encode(' John')[0]!) });
  assert.ok(relError(r.values.flat(), ref.values) <= 1e-5);
  assert.ok(Math.abs(r.cleanLogitDiff - ref.cleanMetric!) <= 1e-5 * Math.abs(ref.cleanMetric!));
  const [row, col] = [1, 3];
  const expected = (ref.values[row * ref.shape[1]! + col]! - ref.baselineMetric) / (ref.cleanMetric! - ref.baselineMetric);
  assert.ok(Math.abs(r.normalized[row]![col]! - expected) <= 1e-4);
  const heads = await jobResult<PatchingReply>(base, '/api/patching', { clean: CLEAN, corrupt: CORRUPT, answer: ' Mary', wrong: ' John', hook: 'z' });
  assert.equal(heads.by, 'head');
  assert.equal(heads.columns.length, m.model.cfg.nHeads);
});

test('saturation layers = saturationLayers of topKPerLayer ranks, per position', async () => {
  const m = server.model;
  const text = 'The cat sat on the mat.\nA computer program runs on a machine.';
  const r = await jobResult<SaturationReply>(base, '/api/saturation', { text, k: 3, reps: 50 });
  const L = m.model.cfg.nLayers;
  for (const [i, line] of text.split('\n').entries()) {
    const ids = m.tokenizer.encode(line);
    const top = await topKPerLayer(m.model, [ids], { k: 3 });
    const T = ids.length;
    const expected = Array.from({ length: T }, (_, p) => saturationLayers(Array.from({ length: L }, (_, j) => Array.from(top.ids.subarray((j * T + p) * 3, (j * T + p + 1) * 3)))));
    assert.deepEqual(r.sentences[i]!.s, expected);
  }
  assert.equal(r.positions, r.sentences.reduce((n, s) => n + s.s.length, 0));
  assert.equal(r.s0Histogram.reduce((a, b) => a + b, 0), r.positions);
});

test('upload: a shortcuts run written by runMatPipeline comes back with its r² and Precision@k', async () => {
  const m = server.model;
  const lines = readFileSync(join(ROOT, 'data', 'text', 'heldout.txt'), 'utf8').split('\n').filter((l) => l.trim().length > 20).slice(0, 24);
  const sentences = lines.map((l) => m.tokenizer.encode(l).slice(0, 32));
  const dir = mkdtempSync(join(tmpdir(), 'explore-sc-'));
  try {
    const report = await runMatPipeline(m.model, sentences, { nTrain: 16, nVal: 8, seed: 0, outDir: dir, mappings: ['id', 'mat'] });
    const bytes = readFileSync(join(dir, 'report.json'));
    const res = await fetch(new URL('/api/shortcuts/run', base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
    assert.equal(res.status, 200);
    const v = (await res.json()) as ShortcutsView;
    assert.equal(v.nLayers, m.model.cfg.nLayers);
    const finite = (x: number[][]) => x.flat().map((y) => (Number.isFinite(y) ? y : null));
    assert.deepEqual(v.r2.mat.flat(), finite(report.r2.mat));
    assert.deepEqual(v.precision.mat!.at1, report.fixedExit.mat!.precisionAt1);
    const bad = await fetch(new URL('/api/shortcuts/run', base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...JSON.parse(bytes.toString()), r2: { mat: [[1]], id: [[1]] } }) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /r2\.mat must be 5×5/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('upload: a probe log (JSONL) is parsed; a bad line is a 400 naming it', async () => {
  const rows = [0, 1, 2, 3].flatMap((layer) => ['mean', 'last'].map((pooler) => ({ layer, pooler, classifier: 'logreg', balancedAccuracy: 0.5 + layer / 10 + (pooler === 'mean' ? 0.01 : 0), note: 'x' })));
  const body = rows.map((r) => JSON.stringify(r)).join('\n') + '\n\n';
  const res = await fetch(new URL('/api/probes/log', base), { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
  assert.equal(res.status, 200);
  const v = (await res.json()) as ProbeLogView;
  assert.deepEqual(v.rows, rows);
  assert.deepEqual(v.metrics, ['balancedAccuracy']);
  assert.deepEqual(v.poolers, ['last', 'mean']);
  assert.deepEqual(v.layers, [0, 1, 2, 3]);
  const bad = await fetch(new URL('/api/probes/log', base), { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `${JSON.stringify(rows[0])}\n{"layer": "two"}\n` });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: { message: string } }).error.message, /line 2/);
  const big = await fetch(new URL('/api/probes/log', base), { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: 'x'.repeat(300 * 1024) });
  assert.equal(big.status, 413);
  await stillAnswers();
});

test('malformed requests get 4xx JSON errors and the server keeps answering', async () => {
  const cases: [string, RequestInit, number][] = [
    ['/api/lens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text": ' }, 400],
    ['/api/lens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1, 2]' }, 400],
    ['/api/lens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 5 }) }, 400],
    ['/api/lens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: PROMPT, extra: 1 }) }, 400],
    ['/api/lens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: '' }) }, 400],
    ['/api/lens', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ text: PROMPT }) }, 415],
    ['/api/lens', { method: 'GET' }, 405],
    ['/api/lens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'x'.repeat(20 * 1024) }) }, 413],
    ['/api/attention/pattern', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: PROMPT, layer: 99, head: 0 }) }, 400],
    ['/api/attention/pattern', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: [1, 999999], layer: 0, head: 0 }) }, 400],
    ['/api/patching', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clean: CLEAN, corrupt: 'short', answer: ' Mary', wrong: ' John' }) }, 400],
    ['/api/patching', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clean: CLEAN, corrupt: CORRUPT, answer: ' Mary Poppins', wrong: ' John' }) }, 400],
    ['/api/nope', { method: 'GET' }, 404],
    ['/api/info', { method: 'POST' }, 405],
    ['/no-such-file.js', { method: 'GET' }, 404],
  ];
  for (const [path, init, status] of cases) {
    const res = await fetch(new URL(path, base), init);
    assert.equal(res.status, status, `${init.method} ${path} ${String(init.body ?? '').slice(0, 40)}`);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(typeof body.error.message, 'string');
    assert.ok(body.error.code.startsWith('E_'), body.error.code);
  }
  const garbage = await rawRequest(server.port, { method: 'POST', path: '/api/lens', headers: { 'content-type': 'application/json', 'content-length': '5' }, body: '\u0000\u0001\u0002\u0003\u0004' });
  assert.equal(garbage.status, 400);
  await stillAnswers();
});

test('static files cannot escape the app folder (.., %2e%2e, encoded slashes, absolute paths)', async () => {
  const paths = ['/../package.json', '/%2e%2e/package.json', '/%2E%2E%2Fpackage.json', '/..%2f..%2fpackage.json', '//etc/passwd', '/%2Fetc%2Fpasswd', '/C:%5Cwindows', '/docs/..%2fpackage.json', '/docs/%2e%2e/package.json', '/%00index.html', '/%E0%A4%A', '/./index.html'];
  for (const path of paths) {
    const r = await rawRequest(server.port, { path });
    assert.equal(r.status, 404, `${path} → ${r.status}`);
    assert.doesNotMatch(r.body, /"name": "tfjs-lens"|root:/, `${path} leaked a file`);
    assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'E_EXPLORE_REQUEST');
  }
  assert.equal((await rawRequest(server.port, { path: '/docs/explore.md' })).status, 200);
  const foreign = await rawRequest(server.port, { path: '/api/info', headers: { host: 'evil.example:80' } });
  assert.equal(foreign.status, 421);
  await stillAnswers();
});

test('one heavy job at a time (409), and a cancelled job stops at its next step', async () => {
  const long = { text: Array.from({ length: 60 }, (_, i) => `Sentence number ${i} is about the cat and the dog.`).join('\n'), k: 3, reps: 10 };
  const controller = new AbortController();
  const res = await fetch(new URL('/api/saturation', base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(long), signal: controller.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  await reader.read(); // the first progress line: the job is running
  const second = await postJob(base, '/api/lens', { text: PROMPT });
  assert.equal(second.status, 409);
  assert.match(second.json!.error.message, /another job \(saturation\) is running/);
  controller.abort();
  let state: { running: unknown; last: { name: string; status: string; done: number; total: number } | null } = { running: {}, last: null };
  for (let i = 0; i < 200 && state.running; i++) {
    await new Promise((r) => setTimeout(r, 50));
    state = (await (await fetch(new URL('/api/jobs', base))).json()) as typeof state;
  }
  assert.equal(state.running, null);
  assert.equal(state.last!.name, 'saturation');
  assert.equal(state.last!.status, 'cancelled');
  assert.ok(state.last!.done < state.last!.total, `stopped at ${state.last!.done} of ${state.last!.total}`);
  const after = await jobResult<LensGrid>(base, '/api/lens', { text: PROMPT });
  assert.equal(after.tokens.length, server.model.tokenizer.encode(PROMPT).length);
});

test('`tfjs-lens explore` prints its URL and serves; a non-loopback --host prints a warning', async () => {
  const { url, child, stderr } = await startExploreCli(['--host', '0.0.0.0', '--backend', testBackend('wasm')]);
  try {
    assert.match(url, /^http:\/\/0\.0\.0\.0:\d+\/$/);
    assert.match(stderr(), /warning: listening on 0\.0\.0\.0, not loopback/);
    const port = Number(/:(\d+)\/$/.exec(url)![1]);
    const info = await rawRequest(port, { path: '/api/info' });
    assert.equal(info.status, 200);
    assert.equal((JSON.parse(info.body) as { nLayers: number }).nLayers, server.model.model.cfg.nLayers);
  } finally {
    child.kill('SIGTERM');
  }
});

test('ViT image view (--vit-model): the patch-level class lens equals lensLogits of every cached residual state', async () => {
  const vitDir = join(ROOT, 'test', 'fixtures', 'hf', 'vit-tiny');
  const image = readFileSync(join(ROOT, 'test', 'fixtures', 'hf', 'vit-preprocess', 'image.png'));
  const none = await fetch(new URL('/api/vit/lens', base), { method: 'POST', headers: { 'content-type': 'image/png' }, body: image });
  assert.equal(none.status, 404, 'no ViT model: 404 with a hint');
  const s = await startExploreServer({ backend: testBackend('wasm'), vitModel: vitDir });
  try {
    const vit = (await loadModel(vitDir)) as HookedViT;
    const res = await fetch(new URL('/api/vit/lens', s.url), { method: 'POST', headers: { 'content-type': 'image/png' }, body: image });
    assert.equal(res.status, 200);
    const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; data?: VitLensReply });
    const r = lines[lines.length - 1]!.data!;
    const cfg = vit.cfg;
    assert.equal(r.gridH * r.gridW, (cfg.imageHeight / cfg.patchSize) * (cfg.imageWidth / cfg.patchSize));
    const pixels = vitPixelValues(new Uint8Array(image), { size: { height: cfg.imageHeight, width: cfg.imageWidth } });
    const names = residNamesFilter(vit);
    const { output, cache } = await vit.runWithCache(pixels, { namesFilter: names });
    for (const [l, name] of names.entries()) {
      const logits = tf.tidy(() => tf.softmax(vit.lensLogits(cache.get(name))));
      const probs = (await logits.array()) as number[][][];
      logits.dispose();
      probs[0]!.forEach((p, tok) => {
        const best = p.indexOf(Math.max(...p));
        assert.equal(r.classes[l]![tok], best, `h${l} token ${tok}`);
        assert.ok(Math.abs(r.probs[l]![tok]! - p[best]!) <= 1e-5, `h${l} token ${tok} prob`);
      });
    }
    tf.dispose([output, pixels]);
    cache.dispose();
    vit.dispose();
    const bad = await fetch(new URL('/api/vit/lens', s.url), { method: 'POST', headers: { 'content-type': 'image/png' }, body: Buffer.from('not an image') });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'E_INVALID_INPUT');
  } finally {
    await s.close();
  }
});

test('Whisper audio view (--whisper-model): the transcript = greedyGenerate, its lens = logitLens on those tokens; a forced prefix = topKPerLayer', async () => {
  const dir = join(ROOT, 'test', 'fixtures', 'hf', 'whisper-tiny');
  const wav = readFileSync(join(ROOT, 'data', 'audio', 'hello-how-are-you.wav'));
  const s = await startExploreServer({ backend: testBackend('wasm'), whisperModel: dir });
  const w = (await loadModel(dir)) as HookedWhisper;
  const audio = decodeWav(new Uint8Array(wav));
  const features = whisperFeatures(audio.samples, { samplingRate: audio.sampleRate, nMels: w.cfg.nMels, nSamples: 2 * w.cfg.maxSourcePositions * 160 });
  const post = async (query: string) => {
    const res = await fetch(new URL(`/api/whisper/lens?${query}`, s.url), { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: wav });
    assert.equal(res.status, 200);
    const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; stage?: string; data?: WhisperLensReply });
    assert.equal(lines[lines.length - 1]!.type, 'result', JSON.stringify(lines[lines.length - 1]));
    return { reply: lines[lines.length - 1]!.data!, stages: lines.map((l) => l.stage) };
  };
  try {
    // transcribe (no prefix given): the route's tokens are greedy decoding's, its probabilities the logit lens's softmax
    const before = tf.memory().numTensors;
    const { reply: t, stages } = await post('k=3');
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked by the whisper route');
    const generated = (await w.generate(features))[0]!;
    assert.ok(generated.length > 2, `the fixture transcribes ${generated.length} tokens`);
    assert.equal(t.source, 'transcribed');
    assert.deepEqual(t.transcript!.ids, generated);
    assert.deepEqual(t.ids, generated);
    assert.ok(stages.filter((x) => x === 'transcribe').length >= generated.length - 1, 'one progress line per generated token');
    const { output, cache } = await w.runWithCache({ inputFeatures: features, decoderInputIds: [generated] }, { namesFilter: residNamesFilter(w) });
    output.dispose();
    const probs = tf.tidy(() => tf.softmax(logitLens(w, cache)));
    cache.dispose();
    const P = (await probs.array()) as number[][][][]; // [L+1, 1, T, dVocab]
    probs.dispose();
    assert.equal(t.top.length, w.cfg.nLayers + 1);
    const got: number[] = [];
    const want: number[] = [];
    for (const [row, perPos] of t.top.entries()) {
      for (const [p, entries] of perPos.entries()) {
        const dist = P[row]![0]![p]!;
        assert.equal(entries[0]!.id, dist.indexOf(Math.max(...dist)), `top-1 of h${row} at ${p} is the lens argmax`);
        for (const e of entries) {
          got.push(e.prob);
          want.push(dist[e.id]!);
        }
      }
    }
    const err = relError(got, want);
    assert.ok(err <= 1e-5, `transcript lens vs logitLens: ${err}`);
    // a short cap stops decoding early
    const { reply: short } = await post('k=1&maxNewTokens=2');
    assert.deepEqual(short.transcript!.ids, generated.slice(0, 3));
    // teacher-forced ids: the grid is topKPerLayer on that prefix, with no transcript
    const prefix = [w.cfg.decoderStartTokenId, 7, 42];
    const { reply: grid } = await post(`ids=${prefix.join(',')}&k=3`);
    const ref = await topKPerLayer(w, { inputFeatures: features, decoderInputIds: [prefix] }, { k: 3, includeEmbedding: true });
    assert.equal(grid.source, 'teacher-forced');
    assert.equal(grid.transcript, undefined);
    assert.deepEqual(grid.ids, prefix);
    assert.deepEqual(grid.top.flat(2).map((e) => e.id), Array.from(ref.ids));
    assert.ok(relError(grid.top.flat(2).map((e) => e.prob), ref.probs) <= 1e-6);
    const bad = await fetch(new URL('/api/whisper/lens?ids=1,99999', s.url), { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: wav });
    assert.equal(bad.status, 400);
    const badCap = await fetch(new URL('/api/whisper/lens?maxNewTokens=0', s.url), { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: wav });
    assert.equal(badCap.status, 400);
    const notWav = await fetch(new URL('/api/whisper/lens', s.url), { method: 'POST', headers: { 'content-type': 'audio/wav' }, body: Buffer.from('RIFF....') });
    assert.equal(notWav.status, 400);
  } finally {
    features.dispose();
    w.dispose();
    await s.close();
  }
});

test('a rotary family (--model llama-tiny): every model view answers; lens = topKPerLayer, heads = inductionScores, patching = patchScan', async () => {
  const dir = join(ROOT, 'test', 'fixtures', 'hf', 'llama-tiny');
  const s = await startExploreServer({ backend: testBackend('wasm'), model: dir });
  try {
    const m = s.model;
    assert.equal(m.model.constructor.name, 'HookedLlama');
    const info = (await (await fetch(new URL('/api/info', s.url))).json()) as { model: string; nLayers: number; nHeads: number };
    assert.deepEqual([info.model, info.nLayers, info.nHeads], [dir, m.model.cfg.nLayers, m.model.cfg.nHeads]);
    const text = 'The cat sat on the mat';
    const ids = m.tokenizer.encode(text);
    const before = tf.memory().numTensors;
    const grid = await jobResult<LensGrid>(s.url, '/api/lens', { text, k: 4 });
    const ref = await topKPerLayer(m.model, [ids], { k: 4, includeEmbedding: true });
    assert.deepEqual(grid.ids, ids);
    assert.deepEqual(grid.top.flat(2).map((e) => e.id), Array.from(ref.ids));
    assert.ok(relError(grid.top.flat(2).map((e) => e.prob), ref.probs) <= 1e-5);
    const L = m.model.cfg.nLayers;
    const last = grid.top[L]![ids.length - 1]![0]!;
    const trace = await jobResult<TokenTrace>(s.url, '/api/lens/token', { text, position: ids.length - 1, tokenId: last.id });
    assert.equal(trace.rank[L], 0);
    const heads = await jobResult<HeadScoresReply>(s.url, '/api/attention/heads', { batch: 2, seed: 1 });
    const tokens = repeatedRandomTokens({ nTokens: heads.nTokens, batch: 2, vocab: m.model.cfg.dVocab, bos: heads.bos, seed: 1 });
    const induction = await inductionScores(m.model, tokens);
    tokens.dispose();
    assert.ok(relError(heads.scores.induction.flat(), induction.data) <= 1e-5);
    const p = await jobResult<PatternReply>(s.url, '/api/attention/pattern', { ids: heads.firstSequence.slice(0, 9), layer: L - 1, head: 1 });
    for (const [q, row] of p.pattern.entries()) {
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${q} sums to 1`);
      for (let k = q + 1; k < row.length; k++) assert.ok(row[k]! < 1e-7, `causal: ${q}→${k}`);
    }
    const [clean, corrupt] = ['The quick brown fox', 'The lazy brown fox'];
    const patch = await jobResult<PatchingReply>(s.url, '/api/patching', { clean, corrupt, answer: ' mat', wrong: ' the', hook: 'resid_pre' });
    const scan = await patchScan(m.model, [m.tokenizer.encode(clean)], [m.tokenizer.encode(corrupt)], { hook: 'resid_pre', metric: logitDiffMetric(m.tokenizer.encode(' mat')[0]!, m.tokenizer.encode(' the')[0]!) });
    assert.ok(relError(patch.values.flat(), scan.values) <= 1e-5);
    const byHead = await jobResult<PatchingReply>(s.url, '/api/patching', { clean, corrupt, answer: ' mat', wrong: ' the', hook: 'z' });
    assert.equal(byHead.columns.length, m.model.cfg.nHeads);
    const sat = await jobResult<SaturationReply>(s.url, '/api/saturation', { text: `${text}\nA lazy fox.`, k: 2, reps: 20 });
    assert.equal(sat.positions, ids.length + m.tokenizer.encode('A lazy fox.').length);
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked by the routes');
  } finally {
    await s.close();
  }
});
