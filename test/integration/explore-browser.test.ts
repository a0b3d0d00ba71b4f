/**
 * The explorer end to end in a real browser: Debian's Chromium (`/usr/bin/chromium`) driven by
 * playwright-core, against a server on the shipped tiny GPT-2. Type a prompt → the grid shows the model's
 * top-1 (computed here with `topKPerLayer`); click a cell → its token's trace; score heads and click one →
 * its pattern; a patching run and a saturation run complete; a probe log and a shortcuts run upload are plotted; an image upload gives the ViT patch lens and a WAV upload the Whisper decoder lens (the tiny random fixtures); a chart exports
 * PNG and SVG; the demo report opens from file:// and shows its figures. Screenshots go to
 * `$TFJS_LENS_E2E_SCREENSHOTS` (else the test's temp folder). Skipped, saying why, without Chromium.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startExploreServer, type ExploreServer } from '../../lib/explore/server.js';
import { topKPerLayer } from '../../lib/lens/topk.js';
import { patchScan } from '../../lib/lens/patching.js';
import { logitDiffMetric } from '../../lib/lens/metrics.js';
import { runMatPipeline } from '../../lib/shortcuts/index.js';
import { loadModel } from '../../lib/nn/load.js';
import type { HookedWhisper } from '../../lib/nn/whisper.js';
import { decodeWav } from '../../lib/data/wav.js';
import { whisperFeatures } from '../../lib/data/audio.js';
import { ROOT } from '../helpers/fixtures.js';
import { defaultTierOnly, testBackend } from '../helpers/backend.js';
import { ensureExploreApp } from '../helpers/explore.js';

const CHROMIUM = process.env.TFJS_LENS_CHROMIUM ?? '/usr/bin/chromium';
// The browser half is backend-independent (the server's numbers are checked per backend in explore-server.test.ts).
const SKIP = defaultTierOnly().skip ?? (existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set TFJS_LENS_CHROMIUM)`);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

let server: ExploreServer;
let browser: Browser;
let page: Page;
let tmp: string;
let shots: string;

before(async () => {
  if (SKIP) return;
  ensureExploreApp();
  tmp = mkdtempSync(join(tmpdir(), 'explore-e2e-'));
  shots = process.env.TFJS_LENS_E2E_SCREENSHOTS ?? join(tmp, 'screenshots');
  mkdirSync(shots, { recursive: true });
  server = await startExploreServer({ backend: testBackend('wasm'), vitModel: join(ROOT, 'test', 'fixtures', 'hf', 'vit-tiny'), whisperModel: join(ROOT, 'test', 'fixtures', 'hf', 'whisper-tiny') });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  page.setDefaultTimeout(20_000);
  await page.goto(server.url);
  await page.waitForSelector('#app[data-ready="true"]');
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp && !process.env.TFJS_LENS_E2E_SCREENSHOTS) rmSync(tmp, { recursive: true, force: true });
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

test('type a prompt → the grid shows the model\'s top-1; click it → its trace across layers; export PNG and SVG', { skip: SKIP }, async () => {
  const m = server.model;
  const prompt = 'The capital city of France is';
  const ids = m.tokenizer.encode(prompt);
  const ref = await topKPerLayer(m.model, [ids], { k: 1 });
  const L = m.model.cfg.nLayers;
  const expected = ref.ids[(L - 1) * ids.length + ids.length - 1]!;
  const token = m.tokenizer.decode([expected]);
  await page.fill('#lens-text', prompt);
  await page.click('#lens-run');
  const top1 = await page.waitForSelector('#lens-top1');
  assert.equal(await top1.getAttribute('data-token-id'), String(expected));
  assert.ok((await top1.textContent())!.includes(JSON.stringify(token)), await top1.textContent() ?? '');
  const texts = await page.$$eval('#lens-grid svg text', (nodes) => nodes.map((n) => n.textContent ?? ''));
  assert.ok(texts.some((t) => t.trim() === JSON.stringify(token).slice(1, -1).trim()), `the grid shows '${token}'`);
  await shot('lens-grid');
  // click the last position's cell at the top layer (its text mark): the trace of that token appears
  const cells = page.locator('#lens-grid svg g.mark-text.role-mark text');
  const n = await cells.count();
  assert.equal(n, (L + 1) * ids.length);
  await cells.nth((L + 1) * ids.length - 1).click({ force: true });
  await page.waitForSelector('#lens-trace-table');
  const lastRow = await page.$$eval('#lens-trace-table tr', (rows) => rows[rows.length - 1]!.textContent ?? '');
  assert.match(lastRow, new RegExp(`^h${L}1`), `rank 1 at h_L: ${lastRow}`);
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('#lens-grid .export-png')]);
  assert.equal(png.suggestedFilename(), 'logit-lens.png');
  const pngBytes = readFileSync((await png.path())!);
  assert.deepEqual([...pngBytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  const [svg] = await Promise.all([page.waitForEvent('download'), page.click('#lens-grid .export-svg')]);
  assert.match(readFileSync((await svg.path())!, 'utf8'), /^<svg/);
  await shot('lens-trace');
});

test('score heads → click a head → its pattern and token view appear', { skip: SKIP }, async () => {
  await page.click('#tab-attention');
  await page.fill('#heads-batch', '4');
  await page.click('#heads-run');
  await page.waitForSelector('#heads-tables button.head');
  assert.equal(await page.locator('#heads-tables button.head[data-kind="induction"]').count(), server.model.model.cfg.nLayers * server.model.model.cfg.nHeads);
  await page.click('#heads-tables button.head[data-kind="previousToken"][data-layer="1"][data-head="2"]');
  await page.waitForFunction(() => document.querySelector('#attn-pattern-title')?.textContent?.startsWith('L1H2'));
  await page.waitForSelector('#attn-pattern-chart svg');
  const tokens = server.model.tokenizer.encode(await page.inputValue('#attn-text'));
  assert.equal(await page.locator('#attn-tokens .tok').count(), tokens.length);
  await page.hover('#attn-tokens .tok >> nth=3');
  const title = await page.getAttribute('#attn-tokens .tok >> nth=0', 'title');
  assert.match(title ?? '', /^attention 3 → 0: \d\.\d{3}$/);
  await shot('attention');
});

test('a patching run completes and shows the clean and corrupt logit differences of the library', { skip: SKIP }, async () => {
  const m = server.model;
  await page.click('#tab-patching');
  await page.click('#patch-run');
  const summary = await page.waitForSelector('#patch-summary');
  await page.waitForSelector('#patch-chart svg');
  const enc = (id: string) => page.inputValue(id).then((v) => m.tokenizer.encode(v));
  const ref = await patchScan(m.model, [await enc('#patch-clean')], [await enc('#patch-corrupt')], { hook: 'resid_pre', layers: [0], metric: logitDiffMetric((await enc('#patch-answer'))[0]!, (await enc('#patch-wrong'))[0]!) });
  const text = (await summary.textContent())!;
  assert.ok(text.includes(`clean ${ref.cleanMetric!.toFixed(3)}, corrupt ${ref.baselineMetric.toFixed(3)}`), text);
  await page.locator('#patch-chart svg g.mark-rect.role-mark path').first().click({ force: true });
  await page.waitForFunction(() => document.querySelector('#patch-cell')?.textContent?.startsWith('block '));
  await shot('patching');
});

test('a saturation run completes; a probe log upload is filtered and plotted', { skip: SKIP }, async () => {
  await page.click('#tab-saturation');
  await page.click('#sat-run');
  await page.waitForSelector('#sat-chart svg');
  assert.match((await page.textContent('#sat-summary'))!, /positions, L = 4 blocks/);
  await shot('saturation');
  await page.click('#tab-probes');
  const rows = [0, 1, 2, 3].flatMap((layer) => ['mean', 'last'].map((pooler) => JSON.stringify({ layer, pooler, classifier: 'logreg', balancedAccuracy: 0.4 + 0.1 * layer })));
  await page.setInputFiles('#probe-file', { name: 'probes.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(rows.join('\n')) });
  await page.waitForSelector('#probe-chart svg');
  assert.match((await page.textContent('#probe-summary'))!, /^8 experiments/);
  await page.selectOption('#probe-pooler', 'mean');
  await page.waitForFunction(() => document.querySelectorAll('#probe-table tr').length === 5);
  await shot('probes');
});

test('a saved shortcuts run (report.json of runMatPipeline) loads into the r² heatmaps and Precision@k chart', { skip: SKIP }, async () => {
  const m = server.model;
  const lines = readFileSync(join(ROOT, 'data', 'text', 'heldout.txt'), 'utf8').split('\n').filter((l) => l.trim().length > 20).slice(0, 24);
  const dir = join(tmp, 'shortcuts');
  const report = await runMatPipeline(m.model, lines.map((l) => m.tokenizer.encode(l).slice(0, 32)), { nTrain: 16, nVal: 8, seed: 0, outDir: dir, mappings: ['id', 'mat'] });
  await page.click('#tab-shortcuts');
  await page.setInputFiles('#sc-file', join(dir, 'report.json'));
  await page.waitForSelector('#sc-precision svg');
  assert.equal(await page.locator('#sc-r2-mat svg g.mark-rect.role-mark path').count(), report.r2.mat.flat().filter(Number.isFinite).length);
  assert.match((await page.textContent('#sc-summary'))!, /^gpt2, L = 4, 16 training and 8 validation sentences/);
  await shot('shortcuts');
});

test('upload an image → the ViT patch-level class lens grid and the CLS table appear', { skip: SKIP }, async () => {
  await page.click('#tab-vit');
  await page.setInputFiles('#vit-file', join(ROOT, 'test', 'fixtures', 'hf', 'vit-preprocess', 'image.png'));
  await page.waitForSelector('#vit-grid svg');
  const vit = server.model;
  assert.ok(vit);
  const info = (await (await fetch(new URL('/api/info', server.url))).json()) as { vit: { nLayers: number; imageSize: number[]; patchSize: number } };
  const patches = (info.vit.imageSize[0]! / info.vit.patchSize) * (info.vit.imageSize[1]! / info.vit.patchSize);
  assert.equal(await page.locator('#vit-grid svg g.mark-rect.role-mark path').count(), patches);
  assert.equal(await page.locator('#vit-cls tr').count(), info.vit.nLayers + 2);
  await shot('vit');
});

test('upload a WAV file → the Whisper transcript (greedyGenerate) and its decoder-lens grid; a teacher-forced prefix instead', { skip: SKIP }, async () => {
  await page.click('#tab-whisper');
  await page.setInputFiles('#whisper-file', join(ROOT, 'data', 'audio', 'hello-how-are-you.wav'));
  const transcript = await page.waitForSelector('#whisper-transcript');
  const top1 = await page.waitForSelector('#whisper-top1');
  await page.waitForSelector('#whisper-grid svg');
  const w = (await loadModel(join(ROOT, 'test', 'fixtures', 'hf', 'whisper-tiny'))) as HookedWhisper;
  const audio = decodeWav(readFileSync(join(ROOT, 'data', 'audio', 'hello-how-are-you.wav')));
  const features = whisperFeatures(audio.samples, { samplingRate: audio.sampleRate, nMels: w.cfg.nMels, nSamples: 2 * w.cfg.maxSourcePositions * 160 });
  try {
    const generated = (await w.generate(features))[0]!;
    assert.equal(await transcript.getAttribute('data-ids'), generated.join(','));
    assert.match((await transcript.textContent()) ?? '', new RegExp(generated.slice(1, 4).join(' ')), 'the transcript text (ids: the fixture has no tokenizer) is shown');
    const last = await topKPerLayer(w, { inputFeatures: features, decoderInputIds: [generated] }, { k: 1, positions: [generated.length - 1] });
    assert.equal(await top1.getAttribute('data-token-id'), String(last.ids[last.ids.length - 1]));
    await shot('whisper');
    await page.fill('#whisper-prefix', '7, 42');
    await page.click('#whisper-run');
    const forced = await page.waitForSelector('#whisper-forced');
    const prefix = [w.cfg.decoderStartTokenId, 7, 42];
    assert.equal(await forced.getAttribute('data-ids'), prefix.join(','));
    const ref = await topKPerLayer(w, { inputFeatures: features, decoderInputIds: [prefix] }, { k: 1, positions: [2] });
    assert.equal(await page.locator('#whisper-top1').getAttribute('data-token-id'), String(ref.ids[ref.ids.length - 1]));
  } finally {
    features.dispose();
    w.dispose();
  }
});

test('the demo report is a self-contained snapshot: it opens from file:// and draws its figures', { skip: SKIP }, async () => {
  const { runDemo } = await import('../../lib/cli/demo.js');
  const out = join(tmp, 'demo');
  const result = await runDemo({ text: 'The capital city of France is', out, seed: '0', heldoutTokens: '128', backend: testBackend('wasm') });
  const report = join(out, 'report.html');
  const html = readFileSync(report, 'utf8');
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, 'no external script or stylesheet');
  const requests: string[] = [];
  const snap = await browser.newPage();
  snap.on('request', (r) => requests.push(r.url()));
  const errors: string[] = [];
  snap.on('pageerror', (e) => errors.push(String(e)));
  await snap.goto(pathToFileURL(report).href);
  await snap.waitForSelector('#app[data-ready="true"]');
  assert.deepEqual(errors, []);
  assert.deepEqual(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('blob:')), [], 'no network request');
  const best = result.induction[0]!;
  assert.match((await snap.textContent('#attn-pattern-title'))!, new RegExp(`^L${best.layer}H${best.head}:`));
  const ids = server.model.tokenizer.encode('The capital city of France is');
  const top = await topKPerLayer(server.model.model, [ids], { k: 1, positions: [ids.length - 1] });
  assert.equal(await snap.getAttribute('#lens-top1', 'data-token-id'), String(top.ids[top.ids.length - 1]));
  assert.ok((await snap.locator('svg').count()) >= 3, 'lens grid, head heatmap and pattern are drawn');
  await snap.screenshot({ path: join(shots, 'demo-report.png'), fullPage: true });
  await snap.close();
});
