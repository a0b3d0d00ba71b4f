/**
 * `GramAccumulator`: streams samples (X `[batch, dIn]`, Y `[batch, dOut]`) into the float64 Gram
 * matrices XᵀX `[dIn, dIn]`, XᵀY `[dIn, dOut]` and the column sums, so that least squares over
 * millions of samples never needs the data in memory at once; `solve()` then fits Y ≈ X·Aᵀ (+ b).
 *
 * Two ways to accumulate:
 * - `device: 'host'` (default): the float64 WebAssembly kernel (`gemm-engine.ts`); data are widened to
 *   float64 exactly, nothing is rounded to float32. `add` runs on the calling thread, `addAsync` also
 *   on worker threads (`threads`).
 * - `device: 'tfjs'`: each batch is multiplied on the active tfjs backend in float32
 *   (`tf.matMul(x, x, true)`, `tf.matMul(x, y, true)`) in row slices of `tfjsSliceRows` rows, and every
 *   slice's float32 Gram is added into the float64 host totals — float32 rounding stays within one
 *   slice. Useful on a GPU backend; less accurate than 'host'.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { GemmEngine, mirrorUpper } from './gemm-engine.js';
import { DEFAULT_RCOND, invertGram } from './gram-inverse.js';
import { matrixShape, toHostMatrix, toHostMatrixSync, type FloatArray, type HostMatrix, type LinearMap, type MatrixInput } from './types.js';
import { readSync } from '../math/sync-read.js';

/** Options of `GramAccumulator`. */
export interface GramAccumulatorOptions {
  /** Where the products run (see the module comment). Default 'host'. */
  device?: 'host' | 'tfjs';
  /** Host: threads for `addAsync` (calling thread included). Default `os.availableParallelism()`. */
  threads?: number;
  /** tfjs: rows per float32 product before its result is added in float64. Default 1024. */
  tfjsSliceRows?: number;
}

/** Options of `GramAccumulator.solve` / `fitLinearMap`. */
export interface SolveOptions {
  /** Fit an intercept b (solved on centred Gram matrices, not penalised by `ridge`). Default false. */
  intercept?: boolean;
  /** Ridge penalty λ ≥ 0: minimises ‖Y − XAᵀ‖² + λ‖A‖². Default 0. */
  ridge?: number;
  /** Relative cut-off for singular directions (see `gram-inverse.ts`). Default 2⁻⁴⁶. */
  rcond?: number;
  /** Precision of the returned weight and bias. Default 'float64'. */
  dtype?: 'float32' | 'float64';
}

/** Accumulated statistics (copies), for inspection or custom solvers. */
export interface GramStatistics {
  /** `[dIn, dIn]` XᵀX. */
  xtx: Float64Array;
  /** `[dIn, dOut]` XᵀY. */
  xty: Float64Array;
  /** `[dIn]` column sums of X. */
  sumX: Float64Array;
  /** `[dOut]` column sums of Y. */
  sumY: Float64Array;
  /** Number of samples. */
  count: number;
}

/** Streams samples into float64 Gram matrices; see the module comment. */
export class GramAccumulator {
  /** Input dimension. */
  readonly dIn: number;
  /** Output dimension. */
  readonly dOut: number;
  /** Where products run. */
  readonly device: 'host' | 'tfjs';
  private readonly engine: GemmEngine;
  private readonly sliceRows: number;
  private readonly ldxx: number;
  private readonly ldxy: number;
  private xtxOffset = -1;
  private xtyOffset = -1;
  private hostXtx: Float64Array | undefined;
  private hostXty: Float64Array | undefined;
  private readonly sumX: Float64Array;
  private readonly sumY: Float64Array;
  private n = 0;
  private pendingAsync = 0;
  private queue: Promise<void> = Promise.resolve();

  /**
   * @param dIn columns of X.
   * @param dOut columns of Y.
   */
  constructor(dIn: number, dOut: number, opts: GramAccumulatorOptions = {}) {
    if (!Number.isInteger(dIn) || dIn < 1 || !Number.isInteger(dOut) || dOut < 1) {
      throw new InvalidArgumentError(`GramAccumulator: dIn and dOut must be positive integers, got ${dIn}, ${dOut}`);
    }
    this.dIn = dIn;
    this.dOut = dOut;
    this.device = opts.device ?? 'host';
    if (this.device !== 'host' && this.device !== 'tfjs') throw new InvalidArgumentError(`GramAccumulator: unknown device '${String(this.device)}'`, "use 'host' or 'tfjs'");
    this.sliceRows = opts.tfjsSliceRows ?? 1024;
    this.engine = GemmEngine.create({ threads: opts.threads });
    this.ldxx = Math.ceil(dIn / 4) * 4;
    this.ldxy = Math.ceil(dOut / 4) * 4;
    this.sumX = new Float64Array(dIn);
    this.sumY = new Float64Array(dOut);
    if (this.device === 'host') {
      this.xtxOffset = this.engine.alloc(this.ldxx * this.ldxx);
      this.xtyOffset = this.engine.alloc(this.ldxx * this.ldxy);
      this.engine.heap().fill(0, this.xtxOffset / 8, this.xtyOffset / 8 + this.ldxx * this.ldxy);
    } else {
      this.hostXtx = new Float64Array(dIn * dIn);
      this.hostXty = new Float64Array(dIn * dOut);
    }
  }

  /** Number of samples added so far. */
  get count(): number {
    return this.n;
  }

  private checkBatch(X: MatrixInput, Y: MatrixInput): number {
    const [nx, dx] = matrixShape(X);
    const [ny, dy] = matrixShape(Y);
    if (dx !== this.dIn) throw new ShapeMismatchError('GramAccumulator.add: X', `[batch, ${this.dIn}]`, [nx, dx]);
    if (dy !== this.dOut) throw new ShapeMismatchError('GramAccumulator.add: Y', `[batch, ${this.dOut}]`, [ny, dy]);
    if (nx !== ny) throw new ShapeMismatchError('GramAccumulator.add: Y', `[${nx}, ${this.dOut}] (same rows as X)`, [ny, dy]);
    return nx;
  }

  private addSums(X: HostMatrix, Y: HostMatrix): void {
    addColumnSums(X.data, X.shape[0], this.dIn, this.sumX);
    addColumnSums(Y.data, Y.shape[0], this.dOut, this.sumY);
  }

  /**
   * Adds a batch of samples (synchronous; host: calling thread only; tfjs: a synchronous read, refused on
   * webgpu in Node — use `addAsync` there).
   * @param X `[batch, dIn]` inputs.
   * @param Y `[batch, dOut]` targets.
   */
  add(X: MatrixInput, Y: MatrixInput): void {
    if (this.pendingAsync) throw new InvalidArgumentError('GramAccumulator.add called while an addAsync is still running', 'await addAsync before calling add');
    const rows = this.checkBatch(X, Y);
    if (rows === 0) return;
    if (this.device === 'tfjs') {
      this.addTfjs(X, Y, rows, (t) => readSync(t, 'GramAccumulator.add', 'use addAsync') as Float32Array);
      return;
    }
    const hx = toHostMatrixSync(X, 'GramAccumulator.add: X');
    const hy = toHostMatrixSync(Y, 'GramAccumulator.add: Y');
    const mark = this.engine.mark();
    try {
      const px = this.engine.pack(hx.data, rows, this.dIn);
      const py = this.engine.pack(hy.data, rows, this.dOut);
      this.engine.accumulate(px, px, this.xtxOffset, this.ldxx, true);
      this.engine.accumulate(px, py, this.xtyOffset, this.ldxy, false);
    } finally {
      this.engine.release(mark);
    }
    this.addSums(hx, hy);
    this.n += rows;
  }

  /**
   * Like `add`, but host products may use worker threads and tensors are read with `await data()`.
   * Calls that overlap are run one after the other.
   */
  async addAsync(X: MatrixInput, Y: MatrixInput): Promise<void> {
    const rows = this.checkBatch(X, Y);
    this.pendingAsync++;
    const run = this.queue.then(() => this.addAsyncNow(X, Y, rows));
    this.queue = run.catch(() => undefined);
    try {
      await run;
    } finally {
      this.pendingAsync--;
    }
  }

  private async addAsyncNow(X: MatrixInput, Y: MatrixInput, rows: number): Promise<void> {
    if (rows === 0) return;
    if (this.device === 'tfjs') {
      const slices: { g: tf.Tensor; c: tf.Tensor; sx: tf.Tensor; sy: tf.Tensor }[] = this.tfjsSlices(X, Y, rows);
      try {
        for (const s of slices) this.addTfjsSlice(await s.g.data() as Float32Array, await s.c.data() as Float32Array, await s.sx.data() as Float32Array, await s.sy.data() as Float32Array);
      } finally {
        for (const s of slices) tf.dispose([s.g, s.c, s.sx, s.sy]);
      }
      this.n += rows;
      return;
    }
    const hx = await toHostMatrix(X, 'GramAccumulator.addAsync: X');
    const hy = await toHostMatrix(Y, 'GramAccumulator.addAsync: Y');
    const mark = this.engine.mark();
    try {
      const px = this.engine.pack(hx.data, rows, this.dIn);
      const py = this.engine.pack(hy.data, rows, this.dOut);
      await this.engine.accumulateParallel(px, px, this.xtxOffset, this.ldxx, true);
      await this.engine.accumulateParallel(px, py, this.xtyOffset, this.ldxy, false);
    } finally {
      this.engine.release(mark);
    }
    this.addSums(hx, hy);
    this.n += rows;
  }

  /** float32 products of row slices on the active tfjs backend (tensors returned, caller disposes). */
  private tfjsSlices(X: MatrixInput, Y: MatrixInput, rows: number): { g: tf.Tensor; c: tf.Tensor; sx: tf.Tensor; sy: tf.Tensor }[] {
    if (Array.isArray(X)) X = toHostMatrixSync(X, 'GramAccumulator: X');
    if (Array.isArray(Y)) Y = toHostMatrixSync(Y, 'GramAccumulator: Y');
    const [hostX, hostY] = [X, Y] as [HostMatrix | tf.Tensor2D, HostMatrix | tf.Tensor2D];
    return tf.tidy(() => {
      const xt = hostX instanceof tf.Tensor ? hostX : tf.tensor2d(hostX.data instanceof Float32Array ? hostX.data : Float32Array.from(hostX.data), [rows, this.dIn]);
      const yt = hostY instanceof tf.Tensor ? hostY : tf.tensor2d(hostY.data instanceof Float32Array ? hostY.data : Float32Array.from(hostY.data), [rows, this.dOut]);
      const out: { g: tf.Tensor; c: tf.Tensor; sx: tf.Tensor; sy: tf.Tensor }[] = [];
      for (let start = 0; start < rows; start += this.sliceRows) {
        const size = Math.min(this.sliceRows, rows - start);
        const xs = size === rows ? xt : tf.slice(xt, [start, 0], [size, this.dIn]);
        const ys = size === rows ? yt : tf.slice(yt, [start, 0], [size, this.dOut]);
        out.push({ g: tf.keep(tf.matMul(xs, xs, true, false)), c: tf.keep(tf.matMul(xs, ys, true, false)), sx: tf.keep(tf.sum(xs, 0)), sy: tf.keep(tf.sum(ys, 0)) });
      }
      return out;
    });
  }

  private addTfjs(X: MatrixInput, Y: MatrixInput, rows: number, read: (t: tf.Tensor) => Float32Array): void {
    const slices = this.tfjsSlices(X, Y, rows);
    try {
      for (const s of slices) this.addTfjsSlice(read(s.g), read(s.c), read(s.sx), read(s.sy));
    } finally {
      for (const s of slices) tf.dispose([s.g, s.c, s.sx, s.sy]);
    }
    this.n += rows;
  }

  private addTfjsSlice(g: Float32Array, c: Float32Array, sx: Float32Array, sy: Float32Array): void {
    const xtx = this.hostXtx!;
    const xty = this.hostXty!;
    for (let i = 0; i < g.length; i++) xtx[i] += g[i]!;
    for (let i = 0; i < c.length; i++) xty[i] += c[i]!;
    for (let i = 0; i < sx.length; i++) this.sumX[i] += sx[i]!;
    for (let i = 0; i < sy.length; i++) this.sumY[i] += sy[i]!;
  }

  /** Copies of the accumulated statistics. */
  statistics(): GramStatistics {
    if (this.pendingAsync) throw new InvalidArgumentError('GramAccumulator: statistics/solve called while an addAsync is still running', 'await addAsync first');
    let xtx: Float64Array;
    let xty: Float64Array;
    if (this.device === 'host') {
      xtx = this.engine.copyOut(this.xtxOffset, this.ldxx, this.dIn, this.dIn, true);
      xty = this.engine.copyOut(this.xtyOffset, this.ldxy, this.dIn, this.dOut);
    } else {
      xtx = Float64Array.from(this.hostXtx!);
      mirrorUpper(xtx, this.dIn); // float32 products are symmetric up to rounding; make it exact
      xty = Float64Array.from(this.hostXty!);
    }
    return { xtx, xty, sumX: Float64Array.from(this.sumX), sumY: Float64Array.from(this.sumY), count: this.n };
  }

  /**
   * Least-squares fit of the accumulated samples: weight A `[dOut, dIn]` minimising
   * Σ_n ‖y_n − A·x_n − b‖² + ridge·‖A‖² (b = 0 unless `intercept`). Normal equations in float64:
   * (XᵀX + ridge·I)·Aᵀ = XᵀY, solved by Cholesky, or by the pseudo-inverse when XᵀX is singular
   * (the minimum-norm solution, as lstsq). With `intercept` the Gram matrices are centred first:
   * S = XᵀX − n·x̄x̄ᵀ, Sxy = XᵀY − n·x̄ȳᵀ, b = ȳ − A·x̄ (sklearn `fit_intercept=True`).
   */
  solve(opts: SolveOptions = {}): LinearMap {
    return solveFromStatistics(this.statistics(), this.engine, opts);
  }

  /**
   * Stops worker threads (the accumulator stays usable on the calling thread). Workers of an
   * accumulator that is dropped without `dispose()` are stopped when it is garbage-collected.
   */
  dispose(): void {
    this.engine.close();
  }
}

function addColumnSums(data: FloatArray, rows: number, cols: number, out: Float64Array): void {
  for (let n = 0; n < rows; n++) {
    const base = n * cols;
    for (let c = 0; c < cols; c++) out[c] += data[base + c]!;
  }
}

/** Solves the normal equations from accumulated statistics (see `GramAccumulator.solve`). */
export function solveFromStatistics(stats: GramStatistics, engine: GemmEngine, opts: SolveOptions = {}): LinearMap {
  const { xtx, xty, sumX, sumY, count } = stats;
  const dIn = sumX.length;
  const dOut = sumY.length;
  const ridge = opts.ridge ?? 0;
  if (!(ridge >= 0)) throw new InvalidArgumentError(`solve: ridge must be ≥ 0, got ${ridge}`);
  if (count === 0) throw new InvalidArgumentError('solve: no samples were added', 'call add(X, Y) before solve()');
  const S = Float64Array.from(xtx);
  const Sxy = Float64Array.from(xty);
  let meanX: Float64Array | undefined;
  let meanY: Float64Array | undefined;
  if (opts.intercept) {
    meanX = sumX.map((s) => s / count);
    meanY = sumY.map((s) => s / count);
    for (let a = 0; a < dIn; a++) {
      const ma = meanX[a]! * count;
      for (let b = 0; b < dIn; b++) S[a * dIn + b] -= ma * meanX[b]!;
      for (let o = 0; o < dOut; o++) Sxy[a * dOut + o] -= ma * meanY[o]!;
    }
  }
  if (ridge > 0) for (let a = 0; a < dIn; a++) S[a * dIn + a] += ridge;
  const inv = invertGram(S, dIn, engine, opts.rcond ?? DEFAULT_RCOND);
  const mark = engine.mark();
  let weight64: Float64Array;
  try {
    // A = Sxyᵀ·S⁻¹ : [dOut, dIn] (S⁻¹ symmetric)
    const left = engine.pack(Sxy, dIn, dOut);
    const right = engine.pack(inv.inverse, dIn, dIn);
    weight64 = engine.productTNSync(left, right);
  } finally {
    engine.release(mark);
  }
  let bias64: Float64Array | null = null;
  if (meanX && meanY) {
    bias64 = new Float64Array(dOut);
    for (let o = 0; o < dOut; o++) {
      let s = meanY[o]!;
      for (let a = 0; a < dIn; a++) s -= weight64[o * dIn + a]! * meanX[a]!;
      bias64[o] = s;
    }
  }
  const f32 = opts.dtype === 'float32';
  return {
    weight: f32 ? Float32Array.from(weight64) : weight64,
    bias: bias64 && (f32 ? Float32Array.from(bias64) : bias64),
    shape: [dOut, dIn],
    method: inv.method,
    rank: inv.rank,
    samples: count,
    ridge,
  };
}
