/**
 * Writes `MODEL_CARD.md`, `loss-curve.png` and `head-scores.png` of a shipped model (`weights/tiny-gpt2` by
 * default, or the directory given) from `training-log.json` and a fresh evaluation of the saved checkpoint
 * (held-out loss, induction / previous-token heads, repeated-sequence log-probs, where the lens settles, the
 * order of saturation on held-out text, linear shortcuts mat vs id). Re-run:
 * `npm run build && node dist/weights/train/model-card.js [DIR]` (TFJS_LENS_BACKEND picks the backend, wasm
 * by default).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFile, writeFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { lineChartSpec, writeChart } from '../../lib/plot/index.js';
import { runDemo } from '../../lib/cli/demo.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { lmLoss } from '../../lib/lens/metrics.js';
import { runSaturation, type SaturationReport } from '../../lib/cli/saturation.js';
import { runShortcuts, type ShortcutsReport } from '../../lib/cli/shortcuts.js';
import { mean } from '../../lib/math/stats.js';

const dir = process.argv[2] ?? 'weights/tiny-gpt2';
const name = basename(dir);
const backend = process.env.TFJS_LENS_BACKEND ?? 'wasm';
const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { n_layer: number };

interface LogEntry {
  step: number;
  loss: number;
  heldout?: number;
  seconds: number;
  /** Best induction / previous-token score at this step (logged by train_numpy.py at each evaluation). */
  induction?: number;
  previousToken?: number;
  /** Fraction of held-out positions whose lens top-1 after block L−2 is the final top-1 (train_numpy.py). */
  lensSettled?: number;
}

/** Mean LM loss of `model` over `windows` (8 per forward pass). */
async function meanLoss(model: HookedGPT2, windows: number[][]): Promise<number> {
  let total = 0;
  for (let i = 0; i < windows.length; i += 8) {
    const logits = await model.forward(windows.slice(i, i + 8));
    const loss = lmLoss(logits, windows.slice(i, i + 8));
    total += (await loss.data())[0]! * Math.min(8, windows.length - i);
    tf.dispose([logits, loss]);
  }
  return total / windows.length;
}

/**
 * Held-out loss over up to 64 windows: plain windows of n_ctx tokens, and `<|endoftext|>` + n_ctx − 1 tokens
 * (as trained); one model load for both.
 */
async function heldoutLosses(): Promise<Record<'plain' | 'withBos', { loss: number; tokens: number }>> {
  const model = await loadModel(dir);
  try {
    if (!(model instanceof HookedGPT2) || !model.tokenizer) throw new Error(`${dir} is not a GPT-2 checkpoint with a tokenizer`);
    const bos = model.cfg.bosTokenId;
    if (bos === undefined) throw new Error(`${dir}: config.json has no bos_token_id`);
    const ids = model.tokenizer.encode(await readFile('data/text/heldout.txt', 'utf8'));
    const windowsOf = (T: number, prefix: number[]): number[][] => {
      const windows: number[][] = [];
      for (let s = 0; s + T <= ids.length && windows.length < 64; s += T) windows.push([...prefix, ...ids.slice(s, s + T)]);
      return windows;
    };
    const plain = windowsOf(model.cfg.nCtx, []);
    const withBos = windowsOf(model.cfg.nCtx - 1, [bos]);
    return {
      plain: { loss: await meanLoss(model, plain), tokens: plain.length * model.cfg.nCtx },
      withBos: { loss: await meanLoss(model, withBos), tokens: withBos.length * (model.cfg.nCtx - 1) },
    };
  } finally {
    model.dispose();
  }
}

type RunOptions = Record<string, unknown>;
const { options, log } = JSON.parse(await readFile(join(dir, 'training-log.json'), 'utf8')) as { options: RunOptions & { runs?: RunOptions[] }; log: LogEntry[] };
const runs = options.runs ?? [options];
/** Runs logged before the trainer was recorded were tfjs runs. */
const trainerOf = (r: RunOptions): string => String(r.trainer ?? 'tfjs (weights/train/train.ts)');
/** A run is a copy-curriculum stage when its rows are shorter than the context and mostly repeated random spans. */
const isCurriculum = (r: RunOptions): boolean => Number(r.seqLen) < Number(r.nCtx ?? 128) && Number(r.repeatFraction) >= 0.5 && Number(r.randomSpanFraction) === 1;
const curriculumIndex = runs.findIndex(isCurriculum);
const curriculum = curriculumIndex >= 0 ? runs[curriculumIndex]! : undefined;
const pct = (x: unknown) => `${Math.round(100 * Number(x))}%`;
const curriculumStart = curriculum ? Number(curriculum.startStep ?? 0) : 0;
const curriculumEnd = curriculumIndex >= 0 && curriculumIndex + 1 < runs.length ? Number(runs[curriculumIndex + 1]!.startStep) : log[log.length - 1]!.step;
/** Best induction score logged at the last evaluation at or before `step` (n/a before the first). */
const inductionAt = (step: number): string => log.filter((e) => e.induction !== undefined && e.step <= step).at(-1)?.induction?.toFixed(2) ?? 'n/a';
const bestInductionAfter = (step: number): string => Math.max(...log.filter((e) => e.induction !== undefined && e.step > step).map((e) => e.induction!)).toFixed(2);
const partlyWithoutBos = (r: RunOptions): boolean => r.bosFraction !== undefined && Number(r.bosFraction) < 1;
const stageRole = (r: RunOptions, i: number): string => {
  if (r.growFrom) return `grown to ${config.n_layer} blocks, mixed${partlyWithoutBos(r) ? `, ${pct(1 - Number(r.bosFraction))} of rows without BOS` : ''}`;
  if (isCurriculum(r)) return 'copy curriculum';
  if (partlyWithoutBos(r)) return `mixed, ${pct(1 - Number(r.bosFraction))} of rows without BOS`;
  if (i < curriculumIndex) return 'text first';
  if (curriculumIndex >= 0 && i > curriculumIndex) return 'full context, mixed';
  return 'text + repeats';
};
const stageText = curriculum === undefined ? '' : [
  curriculumIndex > 0
    ? `Run${curriculumIndex > 1 ? `s 1–${curriculumIndex}` : ' 1'} learn${curriculumIndex > 1 ? '' : 's'} the language first (128-token rows, ${pct(runs[0]!.repeatFraction)} of them repeating a span). Starting with text matters for the
logit lens: a model that first learns to copy random tokens writes its frequency / bigram prediction only in the last block, and its
intermediate residual stream is not read correctly by the unembedding (an earlier snapshot trained copy-first fixed the lens top-1 before
the last block at only 4% of held-out positions).`
    : '',
  `Run ${curriculumIndex + 1} is the copy curriculum: short rows (${curriculum.seqLen} tokens after \`<|endoftext|>\`); ${pct(curriculum.repeatFraction)} of them are a short corpus
prefix followed by a span of uniformly random token ids repeated to the end of the row${Number(curriculum.repeatFraction) < 1 ? `, the other ${pct(1 - Number(curriculum.repeatFraction))} plain text
(which keeps the language statistics in place)` : ''}. The first copy of a random span cannot be predicted, so copying from earlier in the row is
the only way to lower the loss there; the previous-token → induction circuit forms as a phase change (loss and head scores jump
together, see the head-score curve: best induction score ${inductionAt(curriculumStart)} at the start of this run, ${inductionAt(curriculumEnd)} at its end${curriculumIndex + 1 < runs.length ? `, ${bestInductionAfter(curriculumEnd)} at most afterwards` : ''}), which on mixed text at 128 tokens per row did not happen within the CPU budget (a 4.1 M-token
run reached held-out loss 3.99 with a best induction score of 0.014).`,
  curriculumIndex + 1 < runs.length
    ? `Run ${curriculumIndex + 2} then trains on the full context with ${pct(1 - Number(runs[curriculumIndex + 1]!.repeatFraction))} plain text rows, where the induction heads generalise to spans of up to 55 tokens.`
    : '',
  ...runs.map((r, i) => (partlyWithoutBos(r) && !r.growFrom ? `Run ${i + 1} starts ${pct(1 - Number(r.bosFraction))} of its rows mid-text without \`<|endoftext|>\`. Until then every row began with it, and the
model had come to rely on it (measured at the end of run ${i} as in the evaluation below: held-out loss 3.84 with BOS, 5.17 without), while tfjs-lens, like Hugging Face,
prepends nothing unless asked (\`prependBos\`), so prompts typed into the CLI would have met an off-distribution model.` : '')),
  ...runs.map((r, i) => (r.growFrom ? `Run ${i + 1} grows the model from ${Number(config.n_layer) / Number(r.growFactor)} to ${config.n_layer} blocks (\`--grow-from ${r.growFrom} --grow-factor ${r.growFactor} --grow-mode ${r.growMode ?? 'zero'}\`): ${r.growMode === 'split'
    ? `every block of the checkpoint above becomes ${r.growFactor} consecutive copies of itself, each keeping 1/${r.growFactor} of the block's attention and MLP output projections (weights and biases), so the copies together move the residual stream as far as the block did, in ${r.growFactor} steps`
    : `every block is followed by ${Number(r.growFactor) - 1} copies of itself with zero output projections (the same function at the start)`}; then all ${config.n_layer} blocks train together on the mixed rows of the runs before (${pct(r.repeatFraction)} repeated spans${partlyWithoutBos(r) ? `, ${pct(1 - Number(r.bosFraction))} of rows without BOS` : ''}). Runs 1–${i} are the training of \`${r.growFrom}\` itself (its log is kept).` : '')),
].filter((t) => t).join('\n\n');
const runSpans = runs.map((r, i) => {
  const start = Number(r.startStep ?? 0);
  const end = i + 1 < runs.length ? Number(runs[i + 1]!.startStep) : log[log.length - 1]!.step;
  return { start, end, tokens: (end - start) * Number(r.batch) * Number(r.seqLen) };
});
const totalTokens = runSpans.reduce((a, r) => a + r.tokens, 0);
const runLines = runs.map((r, i) => {
  const { start, end } = runSpans[i]!;
  const startedFrom = r.growFrom ? `grown ×${r.growFactor} (${r.growMode ?? 'zero'}) from \`${r.growFrom}\`` : r.init ? 'resumed' : 'random init';
  return `| ${i + 1} | ${stageRole(r, i)} | ${trainerOf(r).split(' ')[0]} | ${start} → ${end} (schedule of ${r.steps} steps) | ${r.batch} × ${r.seqLen} | ${r.lr} | ${r.warmup} | ${r.repeatFraction} | ${r.randomSpanFraction ?? 0.5} | ${r.init || r.growFrom ? '(resumed)' : r.posInit ?? 'random'} | ${r.seed} | ${startedFrom} |`;
});
const trainers = [...new Set(runs.map(trainerOf))];
const numpyOnly = trainers.every((t) => t.startsWith('numpy'));
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
  { title: `${name} training loss (nats/token)`, xTitle: 'step', yTitle: 'cross-entropy' },
));
const scored = log.filter((e) => e.induction !== undefined);
const lensScored = log.filter((e) => e.lensSettled !== undefined);
if (scored.length > 1) {
  await writeChart(join(dir, 'head-scores.png'), lineChartSpec(
    [
      { name: 'induction', x: scored.map((e) => e.step), y: scored.map((e) => e.induction!) },
      { name: 'previous-token', x: scored.map((e) => e.step), y: scored.map((e) => e.previousToken!) },
      ...(lensScored.length > 1 ? [{ name: 'lens settled early', x: lensScored.map((e) => e.step), y: lensScored.map((e) => e.lensSettled!) }] : []),
    ],
    { title: `${name} during training: best head scores (repeated random tokens), lens settling (held-out rows)`, xTitle: 'step', yTitle: 'score / fraction' },
  ));
}
const { plain: evaluation, withBos: evaluationBos } = await heldoutLosses();
const demo = await runDemo({ text: 'The capital city of France is', out: join('scratch', 'model-card-demo'), seed: '0', heldoutTokens: '1024', model: dir, backend });
// The order of saturation on all of the held-out text (what `tfjs-lens saturation --text-file data/text/heldout.txt` prints)
const saturation = (await runSaturation({ model: dir, backend, textFile: 'data/text/heldout.txt', k: '5', filter: '0.85', reps: '1000', seed: '0', batch: '16', out: join('scratch', 'model-card-saturation') })) as SaturationReport;
// Linear shortcuts on the shipped sentences (what `tfjs-lens shortcuts --text-file data/text/sentences.txt --n-train 1000 --n-val 300` prints)
const shortcuts = (await runShortcuts({ model: dir, backend, textFile: 'data/text/sentences.txt', nTrain: '1000', nVal: '300', seed: '0', batch: '16', out: join('scratch', 'model-card-shortcuts') })) as ShortcutsReport;
const pairsR2 = (m: number[][]) => m.flatMap((row, i) => row.filter((_, j) => j > i));
const r2Mat = pairsR2(shortcuts.r2.mat);
const r2Id = pairsR2(shortcuts.r2.id);
const matWins = r2Mat.filter((v, i) => v > r2Id[i]!).length;
const tau = saturation.kendall;
const last = log[log.length - 1]!;
const size = (await stat(join(dir, 'model.safetensors'))).size;
const top = (xs: { layer: number; head: number; score: number }[]) => xs.slice(0, 3).map((h) => `L${h.layer}H${h.head} ${h.score.toFixed(3)}`).join(', ');
const card = `# ${name} — model card

A small GPT-2 trained by the tfjs-lens project so that the library's analyses have real structure to find
offline. Architecture: GPT-2 (pre-LN, learned positions, GELU-tanh, tied unembedding), ${config.n_layer} layers,
d_model 128, 4 heads of 32, d_mlp 512, context 128 tokens, vocabulary 4096 (byte-level BPE learned on the
training text, \`tokenizer.json\`). ${(size / 1e6).toFixed(1)} MB of float32 safetensors in the Hugging Face layout.

## Data
\`data/text/train.txt\` (public-domain Jargon File 4.4.7 and Devil's Dictionary, plus project-generated
English; see data/text/README.md). ${runs.map((r) => `${Math.round(Number(r.repeatFraction) * 100)}%`).join(' / ')} (per run) of training sequences repeat a span (of the corpus or of
random tokens) to teach in-context copying. Held-out: \`data/text/heldout.txt\` (disjoint documents).
${curriculum ? `
${stageText}
` : ''}
## Training
${numpyOnly
    ? `Recipe: \`weights/train/train_numpy.py\` (NumPy with a hand-written, finite-difference-checked backward pass, on the
2 CPU cores of the development machine; token ids from \`weights/train/encode.ts\`)`
    : `Recipe: ${trainers.map((t) => `\`${t}\``).join(', ')}`}, in ${runs.length} run${runs.length > 1 ? 's, each resumed from the previous checkpoint' : ''};
\`weights/train/reproduce${runs.some((r) => r.growFrom) ? '-deep' : ''}.sh\` re-runs ${runs.some((r) => r.growFrom) ? 'the growth run from the shipped checkpoint it starts from' : 'all of it (tokenizer included)'}. Adam (β = 0.9, 0.95${options.weightDecay ? `, decoupled weight decay ${options.weightDecay} on matrices` : ''}),
linear warm-up then cosine decay to 10% over each run's schedule, global gradient-norm clipping at 1,
rows of batch × length tokens${numpyOnly ? ` (each row starts with \`<|endoftext|>\`${runs.some(partlyWithoutBos) ? ' except the BOS-less share of a run' : ''})` : ''}, ${last.step} steps in all
(${(totalTokens / 1e6).toFixed(2)} M tokens), ${(last.seconds / 60).toFixed(0)} minutes of training.

| run | stage | trainer | steps | batch × length | peak lr | warm-up | repeat fraction | random spans | positions init | seed | start |
|---|---|---|---|---|---|---|---|---|---|---|---|
${runLines.join('\n')}

![loss curve](loss-curve.png)
${scored.length > 1 ? '\n![head scores during training](head-scores.png)\n' : ''}
## Evaluation (measured by \`weights/train/model-card.ts\`)
| quantity | value |
|---|---|
| held-out loss, windows of \`<|endoftext|>\` + 127 tokens, as trained (${evaluationBos.tokens} tokens) | ${evaluationBos.loss.toFixed(3)} nats/token |
| held-out loss, plain windows of 128 tokens, no BOS (${evaluation.tokens} tokens) | ${evaluation.loss.toFixed(3)} nats/token |
| final training loss (25-step mean) | ${smooth(log.map((e) => e.loss)).at(-1)!.toFixed(3)} |
| top induction heads (repeated random tokens, N = ${demo.repeated.nTokens}, ${demo.repeated.batch} sequences) | ${top(demo.induction)} |
| top previous-token heads | ${top(demo.previousToken)} |
| mean log-prob, first vs second half of repeated sequences | ${demo.repeated.logProbFirstHalf.toFixed(2)} vs ${demo.repeated.logProbSecondHalf.toFixed(2)} |
| top-1 accuracy, first vs second half | ${demo.repeated.accFirstHalf.toFixed(2)} vs ${demo.repeated.accSecondHalf.toFixed(2)} |
| held-out positions whose lens top-1 is fixed before the last block | ${(100 * demo.settling.decidedBeforeLastLayer).toFixed(0)}% of ${demo.settling.positions} |
| order of saturation on all of \`data/text/heldout.txt\` (${saturation.positions} positions, k = 5): mean strict Kendall τ | ${tau.meanTau.toFixed(3)} (${tau.pLabel}, ${tau.reps} permutations; ${tau.nUsed} positions used, ${tau.nSkipped} with n < 3 skipped) |
| mean top-k saturation layer, ranks 1…5 (of 0…${saturation.L - 1}) | ${saturation.meanSaturation.map((x) => x.toFixed(2)).join(', ')} |
| linear shortcuts h_j ≈ A_{j,i}·h_i (mat) vs h_j ≈ h_i (id), validation r² over the ${r2Mat.length} pairs i < j (1000 / 300 sentences of \`data/text/sentences.txt\`) | mean ${mean(r2Mat).toFixed(3)} vs ${mean(r2Id).toFixed(3)}; mat > id on ${matWins} of ${r2Mat.length} pairs |

${demo.induction[0]!.score < 0.5 ? `
**Known gap.** No induction head has formed yet (best score ${demo.induction[0]!.score.toFixed(3)}; the project's target is ≥ 0.5):
${(totalTokens / 1e6).toFixed(1)} M training tokens on one CPU core are far too few. \`weights/train/train_torch.py\`
trains the same architecture on the same data on a GPU in minutes; that is the intended next step.
` : `
L${demo.induction[0]!.layer}H${demo.induction[0]!.head} is an induction head (score ≥ 0.5): on the second copy of a random sequence the model
predicts the next token from the first copy, which the log-prob gap above shows.
`}${demo.settling.decidedBeforeLastLayer < 0.5 ? `
**Known gap.** The logit lens settles late: on held-out text the top-1 is fixed before the last block at only
${(100 * demo.settling.decidedBeforeLastLayer).toFixed(0)}% of positions — the last block (with the induction heads) does most of the prediction and the
intermediate residual stream is not yet aligned with the unembedding. The first shipped snapshot (text-only
tfjs training, no induction head) settled early at 77%; getting both needs more training than this CPU budget.
` : `
The logit lens settles before the last block: on ${demo.settling.positions} held-out positions the top-1 read through the final LayerNorm
and unembedding after block ${demo.settling.nLayers - 2} is already the model's final top-1 at ${(100 * demo.settling.decidedBeforeLastLayer).toFixed(0)}% of positions (mean top-1
saturation layer ${demo.settling.meanSaturationLayer.toFixed(2)} of 0…${demo.settling.nLayers - 1}).
`}
Intended use: demos and tests of interpretability tooling. It is a weak language model.
`;
await writeFile(join(dir, 'MODEL_CARD.md'), card);
process.stdout.write(card);
