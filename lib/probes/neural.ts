/**
 * Gradient-trained probes in tfjs: a linear (softmax-regression) probe and a one-hidden-layer MLP probe
 * (ReLU), trained with Adam on mini-batches of the mean cross-entropy plus ½·l2·‖W‖² (weights only, not
 * biases), with early stopping on a seeded validation split of the training data: after every epoch the
 * validation loss (cross-entropy without the penalty) is measured, the weights of the best epoch are kept,
 * and training stops after `patience` epochs without improvement. Features are standardised with the
 * training part's mean and population std (as the logistic probe). Initialisation (Glorot uniform,
 * zero biases), the split and the batch order come from the seed.
 *
 * The gradients are written out (`probeGradients`) and Adam is applied with tfjs ops: the Node build of
 * tfjs-core registers no gradient functions (they ship with the `@tensorflow/tfjs` union package), and
 * these two networks need only a few lines of backpropagation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../errors.js';
import { createRng } from '../math/rng.js';
import { toHostMatrix, type HostMatrix, type MatrixInput } from '../linreg/types.js';
import { fitStandardScaler, transformStandard, type StandardScaler } from './scaler.js';
import { argmaxRows } from './logistic.js';
import { hostArray, type HostArray } from '../math/host-array.js';
import { selectRows } from './kfold.js';

/** Options of `trainNeuralProbe`. */
export interface NeuralProbeOptions {
  /** 'linear' (softmax regression) or 'mlp' (one hidden ReLU layer). */
  kind: 'linear' | 'mlp';
  /** Hidden units of the MLP (default 64). */
  hidden?: number;
  /** Maximum epochs (default 200). */
  epochs?: number;
  /** Mini-batch size (default 64; the whole training part when larger). */
  batchSize?: number;
  /** Adam learning rate (default 0.01). */
  learningRate?: number;
  /** L2 penalty ½·l2·‖W‖² on the weight matrices (default 1e-4). */
  l2?: number;
  /** Fraction of the training data held out for early stopping (default 0.2; 0 = no early stopping). */
  valFraction?: number;
  /** Epochs without a better validation loss before stopping (default 10). */
  patience?: number;
  /** Seed of the split, the initialisation and the batch order (default 0). */
  seed?: number;
  /** Number of classes K (default max(y) + 1). */
  nClasses?: number;
  /** Standardise the features (default true). */
  standardize?: boolean;
}

/** A trained neural probe (host weights, float32). */
export interface NeuralProbe {
  kind: 'linear' | 'mlp';
  nClasses: number;
  nFeatures: number;
  scaler?: StandardScaler;
  /** Layers in order: linear = [W `[d, K]`, b `[K]`]; mlp = [W1 `[d, H]`, b1 `[H]`, W2 `[H, K]`, b2 `[K]`]. */
  weights: { data: Float32Array; shape: number[] }[];
  /** Epoch (0-based) whose weights were kept. */
  bestEpoch: number;
  /** Epochs run. */
  epochs: number;
  /** Mean training loss (with penalty) per epoch. */
  trainLoss: number[];
  /** Validation cross-entropy per epoch (empty without a validation split). */
  valLoss: number[];
  /** Rows used for training and validation. */
  nTrain: number;
  nVal: number;
}

/** Glorot-uniform `[fanIn, fanOut]` from the seeded stream. */
function glorot(rng: ReturnType<typeof createRng>, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: fanIn * fanOut }, () => (2 * rng.uniform() - 1) * limit);
}

/** Logits `[n, K]` of the network for standardised inputs `x` `[n, d]` (inside a tidy). */
function logitsOf(kind: 'linear' | 'mlp', x: tf.Tensor2D, w: readonly tf.Tensor[]): tf.Tensor2D {
  if (kind === 'linear') return tf.add(tf.matMul(x, w[0] as tf.Tensor2D), w[1]!);
  const h = tf.relu(tf.add(tf.matMul(x, w[0] as tf.Tensor2D), w[1]!));
  return tf.add(tf.matMul(h, w[2] as tf.Tensor2D), w[3]!);
}

/** Mean cross-entropy of logits against one-hot labels `[n, K]`. */
function crossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}

/**
 * Loss and gradients of the mean cross-entropy + ½·l2·Σ‖W‖² (weight matrices only) for a batch.
 * @param x `[B, d]` standardised inputs; @param oneHot `[B, K]`; @param w the layers (see `NeuralProbe.weights`).
 * @returns the loss and one gradient per layer, same shapes (call inside `tf.tidy`).
 */
export function probeGradients(kind: 'linear' | 'mlp', x: tf.Tensor2D, oneHot: tf.Tensor2D, w: readonly tf.Tensor[], l2: number): { loss: tf.Scalar; grads: tf.Tensor[] } {
  const B = x.shape[0];
  const penalty = (ws: tf.Tensor[]) => (l2 === 0 ? tf.scalar(0) : tf.mul(0.5 * l2, tf.addN(ws.map((m) => tf.sum(tf.square(m))))));
  if (kind === 'linear') {
    const z = tf.add(tf.matMul(x, w[0] as tf.Tensor2D), w[1]!) as tf.Tensor2D;
    const g = tf.div(tf.sub(tf.softmax(z), oneHot), B) as tf.Tensor2D;
    const dW = tf.add(tf.matMul(x, g, true, false), tf.mul(l2, w[0]!));
    return { loss: tf.add(crossEntropy(z, oneHot), penalty([w[0]!])) as tf.Scalar, grads: [dW, tf.sum(g, 0)] };
  }
  const pre = tf.add(tf.matMul(x, w[0] as tf.Tensor2D), w[1]!) as tf.Tensor2D;
  const h = tf.relu(pre) as tf.Tensor2D;
  const z = tf.add(tf.matMul(h, w[2] as tf.Tensor2D), w[3]!) as tf.Tensor2D;
  const g = tf.div(tf.sub(tf.softmax(z), oneHot), B) as tf.Tensor2D;
  const dW2 = tf.add(tf.matMul(h, g, true, false), tf.mul(l2, w[2]!));
  const dh = tf.mul(tf.matMul(g, w[2] as tf.Tensor2D, false, true), tf.step(pre)) as tf.Tensor2D;
  const dW1 = tf.add(tf.matMul(x, dh, true, false), tf.mul(l2, w[0]!));
  return { loss: tf.add(crossEntropy(z, oneHot), penalty([w[0]!, w[2]!])) as tf.Scalar, grads: [dW1, tf.sum(dh, 0), dW2, tf.sum(g, 0)] };
}

function toFloat32(m: HostMatrix): Float32Array {
  return m.data instanceof Float32Array ? m.data : Float32Array.from(m.data);
}

/**
 * Trains a linear or MLP probe with early stopping (see the module comment).
 * @param X `[n, d]` raw features; @param y `[n]` labels 0 … K−1.
 */
export async function trainNeuralProbe(X: MatrixInput, y: ArrayLike<number>, opts: NeuralProbeOptions): Promise<NeuralProbe> {
  const M = await toHostMatrix(X, 'trainNeuralProbe: X');
  const [n, d] = M.shape;
  if (y.length !== n) throw new InvalidArgumentError(`trainNeuralProbe: y has ${y.length} labels for ${n} rows`);
  const { kind } = opts;
  if (kind !== 'linear' && kind !== 'mlp') throw new InvalidArgumentError(`trainNeuralProbe: kind must be 'linear' or 'mlp', got '${String(kind)}'`);
  const hidden = opts.hidden ?? 64;
  const epochs = opts.epochs ?? 200;
  const lr = opts.learningRate ?? 0.01;
  const l2 = opts.l2 ?? 1e-4;
  const valFraction = opts.valFraction ?? 0.2;
  const patience = opts.patience ?? 10;
  const seed = opts.seed ?? 0;
  for (const [name, v, ok] of [['hidden', hidden, Number.isInteger(hidden) && hidden >= 1], ['epochs', epochs, Number.isInteger(epochs) && epochs >= 1], ['learningRate', lr, lr > 0], ['l2', l2, l2 >= 0], ['valFraction', valFraction, valFraction >= 0 && valFraction < 1], ['patience', patience, Number.isInteger(patience) && patience >= 1]] as const) {
    if (!ok) throw new InvalidArgumentError(`trainNeuralProbe: bad ${name} ${v}`);
  }
  let K = opts.nClasses ?? 0;
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    if (!Number.isInteger(v) || v < 0 || (opts.nClasses !== undefined && v >= K)) throw new InvalidArgumentError(`trainNeuralProbe: label ${v} at row ${i} is not an integer in 0 … K−1`);
    if (opts.nClasses === undefined) K = Math.max(K, v + 1);
  }
  if (K < 2) throw new InvalidArgumentError(`trainNeuralProbe: needs at least 2 classes, got ${K}`);
  const rng = createRng(seed);
  const perm = rng.permutation(n);
  const nVal = valFraction > 0 ? Math.max(1, Math.round(valFraction * n)) : 0;
  const nTrain = n - nVal;
  if (nTrain < 1) throw new InvalidArgumentError(`trainNeuralProbe: ${n} rows leave no training data after a validation split of ${nVal}`);
  const trainRows = perm.subarray(nVal);
  const valRows = perm.subarray(0, nVal);
  const trainRaw = selectRows(M, trainRows);
  const scaler = opts.standardize === false ? undefined : fitStandardScaler(trainRaw);
  const prep = (m: HostMatrix) => toFloat32(scaler ? transformStandard(scaler, m) : m);
  const xTrain = prep(trainRaw);
  const yTrain = Int32Array.from(trainRows, (r) => y[r]!);
  const xVal = nVal ? prep(selectRows(M, valRows)) : undefined;
  const yVal = Int32Array.from(valRows, (r) => y[r]!);

  const shapes = kind === 'linear' ? [[d, K], [K]] : [[d, hidden], [hidden], [hidden, K], [K]];
  let w: tf.Tensor[] = shapes.map((sh) => tf.tensor(sh.length === 2 ? glorot(rng, sh[0]!, sh[1]!) : new Float32Array(sh[0]!), sh));
  let m: tf.Tensor[] = shapes.map((sh) => tf.zeros(sh));
  let v: tf.Tensor[] = shapes.map((sh) => tf.zeros(sh));
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-7];
  const batch = Math.min(opts.batchSize ?? 64, nTrain);
  const xT = tf.tensor2d(xTrain, [nTrain, d]);
  const yT = tf.tidy(() => tf.oneHot(tf.tensor1d(yTrain, 'int32'), K) as tf.Tensor2D);
  const xV = xVal ? tf.tensor2d(xVal, [nVal, d]) : undefined;
  const yV = nVal ? tf.tidy(() => tf.oneHot(tf.tensor1d(yVal, 'int32'), K) as tf.Tensor2D) : undefined;
  const trainLoss: number[] = [];
  const valLoss: number[] = [];
  let best = { loss: Infinity, epoch: -1, weights: [] as Float32Array[] };
  const snapshot = async () => Promise.all(w.map(async (t) => (await t.data()) as Float32Array));
  let epoch = 0;
  let step = 0;
  try {
    for (; epoch < epochs; epoch++) {
      const order = rng.permutation(nTrain);
      let sum = 0;
      for (let start = 0; start < nTrain; start += batch) {
        const rows = order.subarray(start, Math.min(nTrain, start + batch));
        step++;
        const next = tf.tidy(() => {
          const idx = tf.tensor1d(rows, 'int32');
          const { loss, grads } = probeGradients(kind, tf.gather(xT, idx) as tf.Tensor2D, tf.gather(yT, idx) as tf.Tensor2D, w, l2);
          const m2 = grads.map((g, i) => tf.add(tf.mul(beta1, m[i]!), tf.mul(1 - beta1, g)));
          const v2 = grads.map((g, i) => tf.add(tf.mul(beta2, v[i]!), tf.mul(1 - beta2, tf.square(g))));
          const c1 = 1 - beta1 ** step;
          const c2 = 1 - beta2 ** step;
          const w2 = w.map((t, i) => tf.sub(t, tf.div(tf.mul(lr / c1, m2[i]!), tf.add(tf.sqrt(tf.div(v2[i]!, c2)), eps))));
          return { loss, w2, m2, v2 };
        });
        for (const t of [...w, ...m, ...v]) t.dispose();
        ({ w2: w, m2: m, v2: v } = next);
        sum += (await next.loss.data())[0]! * rows.length;
        next.loss.dispose();
      }
      trainLoss.push(sum / nTrain);
      if (!xV) continue;
      const vl = tf.tidy(() => crossEntropy(logitsOf(kind, xV, w), yV!));
      const val = (await vl.data())[0]!;
      vl.dispose();
      valLoss.push(val);
      if (val < best.loss) best = { loss: val, epoch, weights: await snapshot() };
      else if (epoch - best.epoch >= patience) {
        epoch++;
        break;
      }
    }
    if (!xV) best = { loss: NaN, epoch: epochs - 1, weights: await snapshot() };
  } finally {
    for (const t of [xT, yT, xV, yV, ...w, ...m, ...v]) t?.dispose();
  }
  return {
    kind, nClasses: K, nFeatures: d, scaler, weights: best.weights.map((data, i) => ({ data, shape: shapes[i]! })), bestEpoch: best.epoch, epochs: epoch, trainLoss, valLoss, nTrain, nVal,
  };
}

/** Class probabilities `[n, K]` (softmax of the logits) of raw features `X` `[n, d]` (tensors are read asynchronously: every backend). */
export async function neuralProbeProba(probe: NeuralProbe, X: MatrixInput): Promise<HostArray<Float32Array, readonly [number, number]>> {
  const M = await toHostMatrix(X, 'neuralProbeProba: X');
  const [n, d] = M.shape;
  if (d !== probe.nFeatures) throw new InvalidArgumentError(`neuralProbeProba: X has ${d} features, the probe ${probe.nFeatures}`);
  const x = toFloat32(probe.scaler ? transformStandard(probe.scaler, M) : M);
  const out = tf.tidy(() => tf.softmax(logitsOf(probe.kind, tf.tensor2d(x, [n, d]), probe.weights.map((w) => tf.tensor(w.data, w.shape)))));
  try {
    return hostArray((await out.data()) as Float32Array, [n, probe.nClasses] as const);
  } finally {
    out.dispose();
  }
}

/** Predicted classes `[n]`. */
export async function predictNeuralProbe(probe: NeuralProbe, X: MatrixInput): Promise<Int32Array> {
  return argmaxRows(await neuralProbeProba(probe, X));
}
