/**
 * Bench: `collectStates` of the mat pipeline on a random-weight 12-layer GPT-2 (`randomGpt2Weights`,
 * small widths), N random token sentences with one sampled position each, streamed batch by batch
 * into a `ShortcutAccumulator` (all A_{j,i} and, with registries, all π maps). Prints wall time and the
 * resident set size after every 10 % of the samples and at the end (peak = `process.resourceUsage().maxRSS`),
 * to show that memory stays bounded by one batch (plus the fixed Gram matrices). No assertion.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/collect-states.js [--n 10000] [--L 12] [--d 64] [--vocab 1000]
 *     [--batch 16] [--minLen 5] [--maxLen 32] [--registries 1] [--keep 0] [--backend wasm]
 */
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../lib/backend/index.js';
import { HookedGPT2 } from '../lib/nn/gpt2.js';
import { randomGpt2Weights } from '../lib/io/convert/random.js';
import type { GPT2Config } from '../lib/io/config/gpt2.js';
import { createRng } from '../lib/math/rng.js';
import { collectStates, sampleShortcutPositions, ShortcutAccumulator } from '../lib/shortcuts/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const n = Number(arg('n', '10000'));
const L = Number(arg('L', '12'));
const d = Number(arg('d', '64'));
const vocab = Number(arg('vocab', '1000'));
const batchSize = Number(arg('batch', '16'));
const minLen = Number(arg('minLen', '5'));
const maxLen = Number(arg('maxLen', '32'));
const registries = arg('registries', '1') !== '0';
const keep = arg('keep', '0') !== '0';
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

async function main(): Promise<void> {
  const active = await setBackend(arg('backend', 'wasm'), { verbose: false });
  const cfg: GPT2Config = {
    modelType: 'gpt2', nLayers: L, dModel: d, nHeads: Math.max(1, d / 32), dHead: 32, dMlp: 4 * d, nCtx: Math.max(64, maxLen), dVocab: vocab,
    eps: 1e-5, act: 'gelu_new', scaleAttnWeights: true, scaleAttnByInverseLayerIdx: false, tieWordEmbeddings: true,
  };
  const model = new HookedGPT2(cfg, randomGpt2Weights(cfg, 1));
  const rng = createRng(2024);
  const sentences = Array.from({ length: n }, () => Array.from({ length: minLen + rng.uniformInt(maxLen - minLen + 1) }, () => rng.uniformInt(vocab)));
  const positions = sampleShortcutPositions(sentences, { seed: 7 });
  let tokens = 0;
  for (const t of positions) tokens += t + 1;
  console.log(`backend ${active.name}; GPT-2 L=${L} d=${d} heads=${cfg.nHeads} vocab=${vocab}; N=${n} samples, prefix tokens ${tokens} (mean ${(tokens / n).toFixed(1)}); batch ${batchSize}; registries ${registries}; keep ${keep}`);
  const acc = new ShortcutAccumulator(L, d, { submodules: registries });
  const rssStart = process.memoryUsage().rss;
  console.log(`rss before collecting: ${mib(rssStart)} MiB (model, sentences, Gram matrices allocated)`);
  const t0 = performance.now();
  let done = 0;
  let nextReport = n / 10;
  let batchSeconds = 0;
  const collected = await collectStates(model, sentences, positions, {
    batchSize, registries, keep,
    onBatch: async (batch) => {
      const tA = performance.now();
      await acc.add(batch);
      batchSeconds += (performance.now() - tA) / 1000;
      done += batch.indices.length;
      if (done >= nextReport) {
        nextReport += n / 10;
        const m = process.memoryUsage();
        console.log(`  ${String(done).padStart(6)} samples  ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s  rss ${mib(m.rss)} MiB  heap ${mib(m.heapUsed)} MiB  external ${mib(m.external)} MiB  tensors ${tf.memory().numTensors}`);
      }
    },
  });
  const collectSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const maps = acc.solve();
  const solveSeconds = (performance.now() - t1) / 1000;
  acc.dispose();
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(`collected ${collected.nSamples} samples in ${collected.batches} batches: ${collectSeconds.toFixed(1)} s (of which Gram accumulation ${batchSeconds.toFixed(1)} s)`);
  console.log(`solved ${maps.shortcuts.size} shortcuts + ${maps.submodules.size} sub-module maps in ${solveSeconds.toFixed(1)} s`);
  console.log(`peak rss ${mib(peak)} MiB (start of collection ${mib(rssStart)} MiB); host state buffers kept: ${keep ? `${mib((collected.states?.length ?? 0) * n * d * 4 + (registries ? 5 * L * n * d * 4 : 0))} MiB` : 'none'}`);
  model.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
