/**
 * Training recipe of the shipped tiny GPT-2 (`weights/tiny-gpt2`), re-runnable with
 * `npm run build && node dist/weights/train/train.js [--steps N] [--out DIR]` on CPU (wasm backend).
 *
 * Data: `data/text/train.txt` tokenised with the project's byte-level BPE (`weights/tiny-gpt2/tokenizer.json`,
 * built by `weights/train/tokenizer.ts`). A fraction of the training sequences repeat a span (of the
 * corpus, or of random tokens) so that the model learns in-context copying — the induction-head circuit
 * that the demo looks for. Held-out loss is measured on `data/text/heldout.txt` (plain text, no repeats).
 */
import * as tf from '@tensorflow/tfjs-core';
// Gradient functions are only in the union package's bundle (tfjs-core's Node bundle has none).
import '@tensorflow/tfjs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setBackend } from '../../lib/backend/index.js';
import { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { convertGpt2, type GPT2Weights } from '../../lib/io/convert/gpt2.js';
import { randomGpt2Weights } from '../../lib/io/convert/random.js';
import { openCheckpoint } from '../../lib/io/checkpoint.js';
import { saveGpt2Checkpoint } from '../../lib/io/export/gpt2.js';
import type { GPT2Config } from '../../lib/io/config/gpt2.js';
import { loadTokenizer } from '../../lib/data/tokenizer.js';
import { mulberry32 } from '../../lib/math/rng.js';

interface TrainOptions {
  steps: number;
  batch: number;
  seqLen: number;
  lr: number;
  warmup: number;
  repeatFraction: number;
  seed: number;
  out: string;
  evalEvery: number;
  /** Start from this checkpoint directory instead of random weights (resuming; the Adam state restarts). */
  init: string;
  /** Step number the run starts counting from (for the log when resuming). */
  startStep: number;
  /** Initial position embeddings: 'random' (HF init, std 0.02) or 'sinusoidal' (scaled sin/cos, trainable). */
  posInit: string;
  /** Fraction of repeated spans made of random tokens (the rest are corpus spans). */
  randomSpanFraction: number;
  /** Context length of the model (default: seqLen); train on shorter sequences first as a curriculum. */
  nCtx: number;
  /** End the run after this many steps (the learning-rate schedule still spans `steps`). */
  stopAfter: number;
}

function parseArgs(argv: string[]): TrainOptions {
  const opts: TrainOptions = { steps: 3000, batch: 16, seqLen: 128, lr: 2e-3, warmup: 100, repeatFraction: 0.3, seed: 1234, out: 'weights/tiny-gpt2', evalEvery: 250, init: '', startStep: 0, posInit: 'random', randomSpanFraction: 0.5, nCtx: 0, stopAfter: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof TrainOptions;
    const value = argv[i + 1]!;
    (opts as unknown as Record<string, number | string>)[key] = key === 'out' || key === 'init' || key === 'posInit' ? value : Number(value);
  }
  return opts;
}


function asVariables(w: GPT2Weights): GPT2Weights {
  const v = <T extends tf.Tensor>(t: T): T => {
    const variable = tf.variable(t, true) as unknown as T;
    t.dispose();
    return variable;
  };
  const opt = <T extends tf.Tensor>(t: T | undefined): T | undefined => (t ? v(t) : undefined);
  return {
    W_E: v(w.W_E),
    W_pos: v(w.W_pos),
    lnFinal: { w: v(w.lnFinal.w), b: v(w.lnFinal.b) },
    blocks: w.blocks.map((b) => ({
      ln1: { w: v(b.ln1.w), b: v(b.ln1.b) },
      attn: { W_Q: v(b.attn.W_Q), W_K: v(b.attn.W_K), W_V: v(b.attn.W_V), W_O: v(b.attn.W_O), b_Q: opt(b.attn.b_Q), b_K: opt(b.attn.b_K), b_V: opt(b.attn.b_V), b_O: opt(b.attn.b_O) },
      ln2: { w: v(b.ln2.w), b: v(b.ln2.b) },
      mlp: { W_in: v(b.mlp.W_in), b_in: v(b.mlp.b_in), W_out: v(b.mlp.W_out), b_out: v(b.mlp.b_out) },
    })),
  };
}

/** Draws one training sequence of `len` tokens: a corpus window, or (with `repeatFraction`) a repeated span. */
function sampleSequence(tokens: Int32Array, len: number, vocab: number, repeatFraction: number, rand: () => number, randomSpanFraction = 0.5): number[] {
  if (rand() >= repeatFraction) {
    const start = Math.floor(rand() * (tokens.length - len - 1));
    return Array.from(tokens.subarray(start, start + len));
  }
  // spans of 8–55 tokens; short training sequences (curriculum) use spans of 2 … len/2 − 1
  const maxSpan = Math.floor(len / 2) - 1;
  const spanLen = maxSpan >= 55 ? 8 + Math.floor(rand() * 48) : 2 + Math.floor(rand() * (maxSpan - 1));
  let span: number[];
  if (rand() < 1 - randomSpanFraction) {
    const start = Math.floor(rand() * (tokens.length - spanLen - 1));
    span = Array.from(tokens.subarray(start, start + spanLen));
  } else {
    span = Array.from({ length: spanLen }, () => Math.floor(rand() * vocab));
  }
  const prefixLen = Math.floor(rand() * (len - 2 * spanLen));
  const prefixStart = Math.floor(rand() * (tokens.length - prefixLen - 1));
  const seq = [...Array.from(tokens.subarray(prefixStart, prefixStart + prefixLen)), ...span];
  while (seq.length < len) seq.push(...span);
  return seq.slice(0, len);
}

/** Mean next-token cross-entropy of ids `[batch, pos + 1]`. */
function lmLoss(model: HookedGPT2, ids: tf.Tensor2D): tf.Scalar {
  const [batch, width] = ids.shape;
  const inputs = tf.slice(ids, [0, 0], [batch, width - 1]) as tf.Tensor2D;
  const targets = tf.reshape(tf.slice(ids, [0, 1], [batch, width - 1]), [-1]);
  const logits = tf.reshape(model.forwardIds(inputs), [-1, model.cfg.dVocab]);
  const logProbs = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(logProbs, tf.oneHot(targets, model.cfg.dVocab)), 1))) as tf.Scalar;
}

/** Sin/cos position table `[nCtx, dModel]` scaled to the token embeddings' size (std ≈ 0.02·√2). */
function sinusoidalPositions(nCtx: number, dModel: number): tf.Tensor2D {
  const values = new Float32Array(nCtx * dModel);
  for (let p = 0; p < nCtx; p++) {
    for (let i = 0; i < dModel / 2; i++) {
      const angle = p / 10000 ** ((2 * i) / dModel);
      values[p * dModel + 2 * i] = 0.02 * Math.sin(angle);
      values[p * dModel + 2 * i + 1] = 0.02 * Math.cos(angle);
    }
  }
  return tf.tensor2d(values, [nCtx, dModel]);
}

interface LogEntry {
  step: number;
  loss: number;
  heldout?: number;
  seconds: number;
}

let previousRuns: TrainOptions[] = [];

async function readPreviousLog(dir: string): Promise<LogEntry[]> {
  const parsed = JSON.parse(await readFile(join(dir, 'training-log.json'), 'utf8')) as { options: TrainOptions & { runs?: TrainOptions[] }; log: LogEntry[] };
  previousRuns = parsed.options.runs ?? [parsed.options];
  return parsed.log;
}

async function loadWeights(dir: string, cfg: GPT2Config): Promise<GPT2Weights> {
  const ckpt = await openCheckpoint(dir);
  try {
    return await convertGpt2(ckpt, cfg);
  } finally {
    await ckpt.close();
  }
}

async function encodeFile(path: string, encode: (t: string) => number[]): Promise<Int32Array> {
  const text = await readFile(path, 'utf8');
  const out: number[] = [];
  for (const paragraph of text.split(/(?<=\n)/)) for (const id of encode(paragraph)) out.push(id);
  return Int32Array.from(out);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  await setBackend(process.env.TFJS_LENS_BACKEND ?? 'wasm');
  const tokenizer = await loadTokenizer(opts.out);
  const train = await encodeFile('data/text/train.txt', (t) => tokenizer.encode(t));
  const heldout = await encodeFile('data/text/heldout.txt', (t) => tokenizer.encode(t));
  const cfg: GPT2Config = {
    modelType: 'gpt2', nLayers: 4, dModel: 128, nHeads: 4, dHead: 32, dMlp: 512, nCtx: opts.nCtx || opts.seqLen, dVocab: tokenizer.vocabSize,
    eps: 1e-5, act: 'gelu_new', scaleAttnWeights: true, scaleAttnByInverseLayerIdx: false, tieWordEmbeddings: true,
    bosTokenId: tokenizer.eosTokenId, eosTokenId: tokenizer.eosTokenId,
  };
  console.log(`train tokens ${train.length}, held-out tokens ${heldout.length}, vocab ${cfg.dVocab}`);
  const initial = opts.init ? await loadWeights(opts.init, cfg) : randomGpt2Weights(cfg, opts.seed);
  if (!opts.init && opts.posInit === 'sinusoidal') {
    initial.W_pos.dispose();
    initial.W_pos = sinusoidalPositions(cfg.nCtx, cfg.dModel);
  }
  const weights = asVariables(initial);
  const previous = opts.init ? await readPreviousLog(opts.init) : [];
  const model = new HookedGPT2(cfg, weights);
  const optimizer = tf.train.adam(opts.lr, 0.9, 0.95, 1e-8);
  const rand = mulberry32(opts.seed);
  const heldRand = mulberry32(opts.seed + 1);
  const heldBatch = tf.tensor2d(Array.from({ length: 32 }, () => sampleSequence(heldout, opts.seqLen + 1, cfg.dVocab, 0, heldRand)), undefined, 'int32');
  const log: LogEntry[] = [...previous];
  const offsetSeconds = previous.at(-1)?.seconds ?? 0;
  const started = Date.now();
  const lastLocal = opts.stopAfter > 0 ? Math.min(opts.stopAfter, opts.steps) : opts.steps;
  for (let local = 1; local <= lastLocal; local++) {
    const step = opts.startStep + local;
    const progress = local / opts.steps;
    (optimizer as unknown as { learningRate: number }).learningRate =
      local < opts.warmup ? (opts.lr * local) / opts.warmup : opts.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
    const batch = tf.tensor2d(Array.from({ length: opts.batch }, () => sampleSequence(train, opts.seqLen + 1, cfg.dVocab, opts.repeatFraction, rand, opts.randomSpanFraction)), undefined, 'int32');
    const { value, grads } = tf.variableGrads(() => lmLoss(model, batch));
    const clipped = tf.tidy(() => {
      const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
      const factor = tf.minimum(1, tf.div(1.0, tf.add(norm, 1e-6)));
      return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, factor)]));
    });
    optimizer.applyGradients(clipped as unknown as Parameters<typeof optimizer.applyGradients>[0]);
    const loss = (await value.data())[0]!;
    tf.dispose([value, batch, ...Object.values(grads), ...Object.values(clipped)]);
    const entry: LogEntry = { step, loss, seconds: offsetSeconds + (Date.now() - started) / 1000 };
    if (step % opts.evalEvery === 0 || local === lastLocal) {
      const held = tf.tidy(() => lmLoss(model, heldBatch));
      entry.heldout = (await held.data())[0]!;
      held.dispose();
    }
    log.push(entry);
    if (step % 25 === 0 || entry.heldout !== undefined) {
      console.log(`step ${step} loss ${loss.toFixed(3)}${entry.heldout !== undefined ? ` heldout ${entry.heldout.toFixed(3)}` : ''} (${entry.seconds.toFixed(0)} s)`);
    }
    if (step % 250 === 0 || local === lastLocal) {
      await mkdir(opts.out, { recursive: true });
      await saveGpt2Checkpoint(opts.out, cfg, weights, { trained_steps: String(step), seed: String(opts.seed) });
      await writeFile(join(opts.out, 'training-log.json'), `${JSON.stringify({ options: { ...opts, runs: [...previousRuns, opts] }, log }, null, 1)}\n`);
    }
  }
  heldBatch.dispose();
}

await main();
