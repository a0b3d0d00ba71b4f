/**
 * Writes `weights/tiny-gpt2/MODEL_CARD.md` and `loss-curve.png` from `training-log.json` and a fresh
 * evaluation of the saved checkpoint (held-out loss, induction / previous-token heads, repeated-sequence
 * log-probs, where the lens settles). Re-run: `npm run build && node dist/weights/train/model-card.js`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFile, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { lineChartSpec, writeChart } from '../../lib/plot/index.js';
import { runDemo } from '../../lib/cli/demo.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { lmLoss } from '../../lib/lens/metrics.js';

const dir = process.argv[2] ?? 'weights/tiny-gpt2';

interface LogEntry {
  step: number;
  loss: number;
  heldout?: number;
  seconds: number;
}

async function heldoutLoss(): Promise<{ loss: number; tokens: number }> {
  const model = await loadModel(dir);
  if (!(model instanceof HookedGPT2) || !model.tokenizer) throw new Error(`${dir} is not a GPT-2 checkpoint with a tokenizer`);
  const ids = model.tokenizer.encode(await readFile('data/text/heldout.txt', 'utf8'));
  const T = model.cfg.nCtx;
  const windows: number[][] = [];
  for (let s = 0; s + T <= ids.length && windows.length < 64; s += T) windows.push(ids.slice(s, s + T));
  let total = 0;
  for (let i = 0; i < windows.length; i += 8) {
    const logits = await model.forward(windows.slice(i, i + 8));
    const loss = lmLoss(logits, windows.slice(i, i + 8));
    total += (await loss.data())[0]! * Math.min(8, windows.length - i);
    tf.dispose([logits, loss]);
  }
  model.dispose();
  return { loss: total / windows.length, tokens: windows.length * T };
}

type RunOptions = Record<string, unknown>;
const { options, log } = JSON.parse(await readFile(join(dir, 'training-log.json'), 'utf8')) as { options: RunOptions & { runs?: RunOptions[] }; log: LogEntry[] };
const runs = options.runs ?? [options];
const runLines = runs.map((r, i) => {
  const start = Number(r.startStep ?? 0);
  const end = i + 1 < runs.length ? Number(runs[i + 1]!.startStep) : log[log.length - 1]!.step;
  return `| ${i + 1} | ${start} → ${end} (schedule of ${r.steps} steps) | ${r.lr} | ${r.warmup} | ${r.repeatFraction} | ${r.seed} | ${r.init ? 'resumed' : 'random init'} |`;
});
const smooth = (values: number[], w = 25) => values.map((_, i) => {
  const window = values.slice(Math.max(0, i - w + 1), i + 1);
  return window.reduce((a, b) => a + b, 0) / window.length;
});
const held = log.filter((e) => e.heldout !== undefined);
await writeChart(join(dir, 'loss-curve.png'), lineChartSpec(
  [
    { name: 'train (25-step mean)', x: log.map((e) => e.step), y: smooth(log.map((e) => e.loss)) },
    { name: 'held-out', x: held.map((e) => e.step), y: held.map((e) => e.heldout!) },
  ],
  { title: 'tiny-gpt2 training loss (nats/token)', xTitle: 'step', yTitle: 'cross-entropy' },
));
const evaluation = await heldoutLoss();
const demo = await runDemo({ text: 'The capital city of France is', out: join('scratch', 'model-card-demo'), seed: '0', heldoutTokens: '128', model: dir, backend: 'wasm' });
const last = log[log.length - 1]!;
const size = (await stat(join(dir, 'model.safetensors'))).size;
const top = (xs: { layer: number; head: number; score: number }[]) => xs.slice(0, 3).map((h) => `L${h.layer}H${h.head} ${h.score.toFixed(3)}`).join(', ');
const card = `# tiny-gpt2 — model card

A small GPT-2 trained by the tfjs-lens project so that the library's analyses have real structure to find
offline. Architecture: GPT-2 (pre-LN, learned positions, GELU-tanh, tied unembedding), 4 layers,
d_model 128, 4 heads of 32, d_mlp 512, context 128 tokens, vocabulary 4096 (byte-level BPE learned on the
training text, \`tokenizer.json\`). ${(size / 1e6).toFixed(1)} MB of float32 safetensors in the Hugging Face layout.

## Data
\`data/text/train.txt\` (public-domain Jargon File 4.4.7 and Devil's Dictionary, plus project-generated
English; see data/text/README.md). ${runs.map((r) => `${Math.round(Number(r.repeatFraction) * 100)}%`).join(' / ')} (per run) of training sequences repeat a span (of the corpus or of
random tokens) to teach in-context copying. Held-out: \`data/text/heldout.txt\` (disjoint documents).

## Training
Recipe: \`weights/train/train.ts\` (tfjs on the wasm backend, one CPU core), in ${runs.length} runs each resumed from
the previous checkpoint; \`weights/train/reproduce.sh\` re-runs all of it (tokenizer included). Adam (β = 0.9, 0.95),
linear warm-up then cosine decay to 10% over each run's schedule (runs were stopped early, see below), global
gradient-norm clipping at 1, batch ${options.batch} × ${options.seqLen} tokens, ${last.step} steps in all
(${(Number(options.batch) * Number(options.seqLen) * last.step / 1e6).toFixed(2)} M tokens), ${(last.seconds / 60).toFixed(0)} minutes.

| run | steps | peak lr | warm-up | repeat fraction | seed | start |
|---|---|---|---|---|---|---|
${runLines.join('\n')}

![loss curve](loss-curve.png)

## Evaluation (measured by \`weights/train/model-card.ts\`)
| quantity | value |
|---|---|
| held-out loss (${evaluation.tokens} tokens, windows of 128) | ${evaluation.loss.toFixed(3)} nats/token |
| final training loss (25-step mean) | ${smooth(log.map((e) => e.loss)).at(-1)!.toFixed(3)} |
| top induction heads (repeated random tokens, N = ${demo.repeated.nTokens}, 10 sequences) | ${top(demo.induction)} |
| top previous-token heads | ${top(demo.previousToken)} |
| mean log-prob, first vs second half of repeated sequences | ${demo.repeated.logProbFirstHalf.toFixed(2)} vs ${demo.repeated.logProbSecondHalf.toFixed(2)} |
| top-1 accuracy, first vs second half | ${demo.repeated.accFirstHalf.toFixed(2)} vs ${demo.repeated.accSecondHalf.toFixed(2)} |
| held-out positions whose lens top-1 is fixed before the last block | ${(100 * demo.settling.decidedBeforeLastLayer).toFixed(0)}% of ${demo.settling.positions} |

${demo.induction[0]!.score < 0.5 ? `
**Known gap.** No induction head has formed yet (best score ${demo.induction[0]!.score.toFixed(3)}; the project's target is ≥ 0.5):
${(Number(options.batch) * Number(options.seqLen) * last.step / 1e6).toFixed(1)} M training tokens on one CPU core are far too few. \`weights/train/train_torch.py\`
trains the same architecture on the same data on a GPU in minutes; that is the intended next step.
` : ''}
Intended use: demos and tests of interpretability tooling. It is a weak language model.
`;
await writeFile(join(dir, 'MODEL_CARD.md'), card);
process.stdout.write(card);
