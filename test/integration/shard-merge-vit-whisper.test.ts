/**
 * Sharded `saturation` and `probe` on ViT (`--images`, class folders) and Whisper (`--audio`, the shipped
 * clips), merged, equal the single-process run: 1 and 3 shards, each a contiguous block of the forward
 * passes (`--batch` images, or one clip); rows identical to the single-process per-example rows, probe features
 * identical, reports identical. The manifest hashes every file of the examples: an image changed after the
 * shards ran makes `merge` refuse.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { fixtureDir } from '../helpers/fixtures.js';
import { shardAll as shardAllIn, withoutPaths } from '../helpers/shards.js';
import { defaultTierOnly, testBackend } from '../helpers/backend.js';
import { SHIPPED_AUDIO } from '../helpers/speech-datasets.js';
import { seededImages, writeClassFolders } from '../helpers/image-datasets.js';
import { runSaturation, type SaturationOptions } from '../../lib/cli/saturation.js';
import { runProbe, type ProbeOptions } from '../../lib/cli/probe.js';
import { runMerge } from '../../lib/cli/merge.js';
import { isShardDone } from '../../lib/cli/shard.js';
import { mergeSaturationRows } from '../../lib/cli/saturation-shard.js';
import { mergeProbeData } from '../../lib/cli/probe-shard.js';
import { chunkedExamples } from '../../lib/cli/model-examples.js';
import { chunkedSaturation } from '../../lib/cli/saturation-chunks.js';
import { readRunShards } from '../../lib/io/shard-run.js';
import { buildProbeDataset } from '../../lib/probes/index.js';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import type { HookedModel } from '../../lib/nn/load.js';
import type { HookedLensModel } from '../../lib/lens/logit-lens.js';
import { ShardMergeError } from '../../lib/errors.js';

const VIT = fixtureDir('vit-tiny');
const BACKEND = testBackend('cpu');
const COUNTS = [1, 3];
const CLASSES = ['cat', 'dog', 'ship'];

let dir: string;
let images: string;
let whisperDir: string;
let tensorsBefore: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-shard-vit-whisper-'));
  await setBackend(BACKEND);
  tensorsBefore = tf.memory().numTensors;
  images = join(dir, 'images');
  writeClassFolders(images, seededImages(7, 22, CLASSES.length), CLASSES); // 22 images, --batch 4: 6 passes, the last of 2
  whisperDir = join(dir, 'whisper-tiny');
  cpSync(fixtureDir('whisper-tiny'), whisperDir, { recursive: true });
  cpSync(join(fixtureDir('whisper-tiny-tokenizer'), 'tokenizer.json'), join(whisperDir, 'tokenizer.json'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensors left behind');
});

/** Runs every shard of `run` into a fresh run folder. */
const shardAll = (name: string, n: number, run: (shard: string, runDir: string) => Promise<object>) => shardAllIn(dir, name, n, run);

/** The model and every chunk of its examples, as one process makes them. */
async function allExamples(modelDir: string, input: { images?: string; audio?: string }, batch: number) {
  const model: HookedModel = await loadModel(modelDir);
  const ex = await chunkedExamples(model, modelDir, { ...input, batch });
  assert.ok(ex);
  return { model, ex };
}

const cases = [
  { name: 'vit', modelDir: () => VIT, input: () => ({ images }), batch: 4, passes: 6, examples: 22 },
  { name: 'whisper', modelDir: () => whisperDir, input: () => ({ audio: SHIPPED_AUDIO }), batch: 1, passes: 5, examples: 5 },
];

for (const c of cases) {
  test(`saturation ${c.name}: 1 and 3 shards merged = one process (rows and report identical)`, defaultTierOnly(), async () => {
    const opts = (extra: Partial<SaturationOptions> = {}): SaturationOptions => ({ model: c.modelDir(), ...c.input(), k: '3', filter: '0.85', reps: '200', seed: '1', batch: String(c.batch), out: join(dir, `sat-${c.name}-single`), backend: BACKEND, ...extra });
    const single = await runSaturation(opts());
    assert.ok(!isShardDone(single));
    const { model, ex } = await allExamples(c.modelDir(), c.input(), c.batch);
    const rows = await chunkedSaturation(ex, 3, false);
    model.dispose();
    assert.equal(ex.total, c.passes);
    assert.equal(rows.perExample.length, c.examples);
    assert.equal(rows.S.length, single.positions);
    for (const n of COUNTS) {
      const { runDir, blocks } = await shardAll(`sat-${c.name}`, n, (shard, runDir) => runSaturation(opts({ shard, runDir })));
      // Contiguous blocks of the passes that cover them once.
      assert.deepEqual(blocks.map((b) => [b.start, b.end]).flat(), [0, ...blocks.slice(0, -1).flatMap((b) => [b.end, b.end]), c.passes]);
      const merged = await mergeSaturationRows(runDir, readRunShards(runDir), 3);
      assert.deepEqual(merged.S, rows.S, `n = ${n}: saturation rows`);
      assert.deepEqual(merged.lmRecords, rows.lmRecords, `n = ${n}: better-LM records`);
      const report = JSON.parse(await runMerge(runDir, { json: true, backend: BACKEND })) as Record<string, unknown>;
      assert.deepEqual(withoutPaths(report), withoutPaths(single), `n = ${n}: report`);
    }
    if (c.name === 'whisper') assert.ok(rows.lmRecords.length > 0, 'Whisper positions have next tokens');
  });

  test(`probe ${c.name}: 1 and 3 shards merged = one process (features and report identical)`, defaultTierOnly(), async () => {
    const opts = (extra: Partial<ProbeOptions> = {}): ProbeOptions => ({ model: c.modelDir(), ...c.input(), J0: '0', K: '2', probeK: '2', minPerLayer: '2', folds: '2', filter: '0.85', featureSpace: 'original', seed: '3', batch: String(c.batch), backend: BACKEND, ...extra });
    const single = await runProbe(opts());
    assert.ok(!isShardDone(single));
    const { model, ex } = await allExamples(c.modelDir(), c.input(), c.batch);
    const options = { J0: 0, K: 2, k: 5, minPerLayer: 2, filterFraction: 0.85, featureSpace: 'original' as const };
    const lensModel = model as unknown as HookedLensModel<unknown>;
    const dataset = await buildProbeDataset(lensModel, ex.chunks, options);
    const L = lensModel.nLayers;
    model.dispose();
    assert.ok(dataset.y.length > 0);
    for (const n of COUNTS) {
      const { runDir } = await shardAll(`probe-${c.name}`, n, (shard, runDir) => runProbe(opts({ shard, runDir })));
      const merged = await mergeProbeData(runDir, readRunShards(runDir), { ...options, L });
      assert.deepEqual(merged.dataset.X, dataset.X, `n = ${n}: features`);
      assert.deepEqual(merged.dataset.y, dataset.y, `n = ${n}: labels`);
      const report = JSON.parse(await runMerge(runDir, { json: true, backend: BACKEND })) as Record<string, unknown>;
      assert.deepEqual(withoutPaths(report), withoutPaths(single), `n = ${n}: report`);
    }
  });
}

test('a shard manifest hashes every image file: an image changed after the shards ran makes merge refuse', defaultTierOnly(), async () => {
  const folder = join(dir, 'images-changed');
  cpSync(images, folder, { recursive: true });
  const { runDir } = await shardAll('sat-changed', 2, (shard, runDir) => runSaturation({ model: VIT, images: folder, k: '3', filter: '0.85', reps: '20', seed: '1', batch: '4', out: join(dir, 'sat-changed-out'), backend: BACKEND, shard, runDir }));
  const manifest = readRunShards(runDir)[0]!.manifest;
  assert.equal(manifest.input.files.length, 22);
  assert.ok(manifest.input.files.every((f) => f.startsWith(folder) && f.endsWith('.png')));
  // The shards of the second half read the last file; both manifests record all of them.
  const last = manifest.input.files.at(-1)!;
  const bytes = readFileSync(last);
  bytes[bytes.length - 20] ^= 1;
  writeFileSync(last, bytes);
  await assert.rejects(runMerge(runDir, { backend: BACKEND }), (err: unknown) => err instanceof ShardMergeError && err.problem === 'mismatch' && /changed since the shards read them/.test(err.message));
});
