/**
 * `GemmEngine`: float64 products C += Xᵀ·Y for the Gram matrices and solves of `linreg/`.
 *
 * Operands are packed (converted to float64 and re-laid-out in panels of `PANEL_ROWS` rows × 4 columns,
 * zero-padded) into the engine's working memory — a shared WebAssembly memory that the kernel of
 * `gemm-kernel.ts` reads on the calling thread and, for large products, on worker threads that each
 * take a range of block rows of C. Memory is handed out by a stack allocator (`mark` / `release`).
 * Where WebAssembly SIMD is unavailable the engine runs the JavaScript kernel on one thread.
 *
 * Summation order: within a panel chunk the kernel accumulates in float64 registers, chunk results are
 * added into C in float64. Nothing is rounded to float32.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import { GEMM_MAX_PAGES, gemmWasmModule, instantiateGemmKernel, jsGemmKernel, type GemmKernel } from './gemm-kernel.js';
import type { GemmWorkerInit, GemmWorkerRun } from './gemm-worker.js';

/** Rows per packed panel chunk (keeps a chunk of the right operand in the L2 cache). */
export const PANEL_ROWS = 128;
const PAGE = 65536;
const FENCE_BYTES = 64; // bytes 0..63: Atomics counters
/** Products smaller than this many multiply-adds run on the calling thread only. */
const PARALLEL_MIN_FMA = 4e6;

/** A matrix packed into engine memory: `[chunks][blocks][PANEL_ROWS][4]` float64. */
export interface PackedMatrix {
  /** Byte offset in engine memory. */
  offset: number;
  /** Rows of the source (the summation length n). */
  rows: number;
  /** Columns of the source. */
  cols: number;
  /** ceil(cols/4). */
  blocks: number;
  /** ceil(rows/PANEL_ROWS). */
  chunks: number;
  /** Bytes per chunk: blocks·PANEL_ROWS·32. */
  chunkBytes: number;
}

/** Options of `GemmEngine.create`. */
export interface GemmEngineOptions {
  /**
   * Threads for large products, the calling thread included. Default `os.availableParallelism()`;
   * 1 = no worker threads. Ignored (1) without WebAssembly SIMD.
   */
  threads?: number;
  /** 'auto' (default): WebAssembly SIMD where available; 'js': force the JavaScript kernel (debugging, tests). */
  kernel?: 'auto' | 'js';
}

interface WorkerSlot {
  worker: Worker;
  pending: Map<number, { resolve: () => void; reject: (e: Error) => void }>;
}

/** Terminates the workers of engines that were dropped without `close()`. */
const workerReaper = new FinalizationRegistry<WorkerSlot[]>((slots) => {
  for (const slot of slots) void slot.worker.terminate();
});
let sharedEngine: GemmEngine | undefined;

/** A float64 Xᵀ·Y engine with its own working memory and (optionally) worker threads. */
export class GemmEngine {
  /** Threads used for large products (calling thread included). */
  readonly threads: number;
  /** True when the WebAssembly SIMD kernel is in use (false: JavaScript fallback). */
  readonly usesWasm: boolean;
  private readonly memory: WebAssembly.Memory | undefined;
  private fallbackBuffer: ArrayBuffer | undefined;
  private readonly kernel: GemmKernel;
  private readonly module: WebAssembly.Module | null;
  private top = FENCE_BYTES;
  private heapView: Float64Array | undefined;
  private readonly workers: WorkerSlot[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(threads: number, kernel: 'auto' | 'js' = 'auto') {
    this.module = kernel === 'js' ? null : gemmWasmModule();
    this.usesWasm = this.module !== null;
    if (this.module) {
      this.memory = new WebAssembly.Memory({ initial: 16, maximum: GEMM_MAX_PAGES, shared: true });
      this.kernel = instantiateGemmKernel(this.module, this.memory);
      this.threads = Math.max(1, Math.floor(threads));
      if (this.threads > 1) workerReaper.register(this, this.workers, this);
    } else {
      this.fallbackBuffer = new ArrayBuffer(16 * PAGE);
      this.kernel = jsGemmKernel(() => this.heap());
      this.threads = 1;
    }
  }

  /**
   * A process-wide single-threaded engine for short synchronous work (every use must `mark` and
   * `release` within one synchronous call, so uses never interleave).
   */
  static shared(): GemmEngine {
    sharedEngine ??= new GemmEngine(1);
    return sharedEngine;
  }

  /** Creates an engine; worker threads start lazily at the first large parallel product. */
  static create(opts: GemmEngineOptions = {}): GemmEngine {
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new InvalidArgumentError(`GemmEngine: threads must be a positive integer, got ${threads}`);
    return new GemmEngine(threads, opts.kernel);
  }

  /** The whole working memory as float64 (re-fetch after any `alloc`: memory may have grown). */
  heap(): Float64Array {
    const buffer = this.memory ? this.memory.buffer : this.fallbackBuffer!;
    if (!this.heapView || this.heapView.buffer !== buffer || this.heapView.byteLength !== buffer.byteLength) {
      this.heapView = new Float64Array(buffer);
    }
    return this.heapView;
  }

  /** Allocates `doubles` float64 values (64-byte aligned, contents undefined); returns the byte offset. */
  alloc(doubles: number): number {
    const offset = this.top;
    const end = offset + Math.ceil((doubles * 8) / 64) * 64;
    this.ensure(end);
    this.top = end;
    return offset;
  }

  /** Current allocation mark, for `release`. */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated after `mark`. */
  release(mark: number): void {
    if (mark < FENCE_BYTES || mark > this.top) throw new InvalidArgumentError(`GemmEngine.release: bad mark ${mark}`);
    this.top = mark;
  }

  private ensure(bytes: number): void {
    if (this.memory) {
      const have = this.memory.buffer.byteLength;
      if (bytes <= have) return;
      const pages = Math.ceil(bytes / PAGE);
      if (pages > GEMM_MAX_PAGES) {
        throw new InvalidArgumentError(
          `linreg working memory would need ${(bytes / 2 ** 30).toFixed(2)} GiB (limit 4 GiB)`,
          'feed the data in smaller batches (GramAccumulator.add) or fewer rows at a time',
        );
      }
      this.memory.grow(Math.max(pages - have / PAGE, Math.min(GEMM_MAX_PAGES - have / PAGE, have / PAGE)));
    } else {
      const old = this.fallbackBuffer!;
      if (bytes <= old.byteLength) return;
      const grown = new ArrayBuffer(Math.max(bytes, old.byteLength * 2));
      new Uint8Array(grown).set(new Uint8Array(old));
      this.fallbackBuffer = grown;
    }
  }

  /**
   * Packs `rows` rows of a row-major `[*, cols]` matrix, starting at row `rowStart`, into engine memory.
   * @param src row-major values (float32 values are widened exactly to float64).
   */
  pack(src: ArrayLike<number>, rows: number, cols: number, rowStart = 0): PackedMatrix {
    if (rows < 0 || cols < 1 || (rowStart + rows) * cols > src.length) {
      throw new InvalidArgumentError(`GemmEngine.pack: rows ${rowStart}..${rowStart + rows} of a [*, ${cols}] matrix exceed its ${src.length} values`);
    }
    const blocks = Math.ceil(cols / 4);
    const chunks = Math.max(1, Math.ceil(rows / PANEL_ROWS));
    const chunkDoubles = blocks * PANEL_ROWS * 4;
    const offset = this.alloc(chunks * chunkDoubles);
    const f = this.heap();
    const base = offset / 8;
    f.fill(0, base, base + chunks * chunkDoubles);
    const blockStride = PANEL_ROWS * 4;
    for (let n = 0; n < rows; n++) {
      const chunk = (n / PANEL_ROWS) | 0;
      const rowBase = base + chunk * chunkDoubles + (n - chunk * PANEL_ROWS) * 4;
      const srcBase = (rowStart + n) * cols;
      let a = 0;
      for (; a + 4 <= cols; a += 4) {
        const o = rowBase + (a >> 2) * blockStride;
        f[o] = src[srcBase + a]!;
        f[o + 1] = src[srcBase + a + 1]!;
        f[o + 2] = src[srcBase + a + 2]!;
        f[o + 3] = src[srcBase + a + 3]!;
      }
      for (; a < cols; a++) f[rowBase + (a >> 2) * blockStride + (a & 3)] = src[srcBase + a]!;
    }
    return { offset, rows, cols, blocks, chunks, chunkBytes: chunkDoubles * 8 };
  }

  private check(left: PackedMatrix, right: PackedMatrix, symmetric: boolean): void {
    if (left.rows !== right.rows) throw new InvalidArgumentError(`GemmEngine: Xᵀ·Y needs the same number of rows, got ${left.rows} and ${right.rows}`);
    if (symmetric && (left.offset !== right.offset || left.cols !== right.cols)) {
      throw new InvalidArgumentError('GemmEngine: symmetric products need X and Y to be the same packed matrix');
    }
  }

  /**
   * C += Xᵀ·Y on the calling thread. C lives in engine memory at byte offset `c`, row-major with
   * `ldc` doubles per row, at least `4·left.blocks` rows and `4·right.blocks` columns (padding included).
   * With `symmetric` only block-upper-triangular tiles are computed (use `mirrorUpper` afterwards).
   */
  accumulate(left: PackedMatrix, right: PackedMatrix, c: number, ldc: number, symmetric = false): void {
    this.check(left, right, symmetric);
    for (let chunk = 0; chunk < left.chunks; chunk++) {
      this.kernel(left.offset + chunk * left.chunkBytes, right.offset + chunk * right.chunkBytes, c, 0, left.blocks, right.blocks, PANEL_ROWS, ldc * 8, symmetric ? 1 : 0);
    }
  }

  /** `accumulate` split over the engine's threads (block rows of C divided by work). */
  async accumulateParallel(left: PackedMatrix, right: PackedMatrix, c: number, ldc: number, symmetric = false): Promise<void> {
    this.check(left, right, symmetric);
    const fma = left.chunks * PANEL_ROWS * left.blocks * right.blocks * 16 * (symmetric ? 0.5 : 1);
    const parts = Math.min(this.threads, left.blocks);
    if (parts <= 1 || fma < PARALLEL_MIN_FMA || !this.module || this.closed) {
      this.accumulate(left, right, c, ldc, symmetric);
      return;
    }
    const ranges = splitBlockRows(left.blocks, right.blocks, parts, symmetric);
    this.startWorkers(parts - 1);
    const fence = 0;
    const jobs = ranges.slice(1).map(([aBegin, aEnd], w) =>
      this.post(w, {
        type: 'run', id: this.nextId++, xp: left.offset, yp: right.offset, xChunkBytes: left.chunkBytes, yChunkBytes: right.chunkBytes,
        chunks: left.chunks, c, aBegin, aEnd, bBlocks: right.blocks, nb: PANEL_ROWS, ldc: ldc * 8, sym: symmetric ? 1 : 0, fence,
      }),
    );
    const [ownBegin, ownEnd] = ranges[0]!;
    let ownError: unknown;
    try {
      for (let chunk = 0; chunk < left.chunks; chunk++) {
        this.kernel(left.offset + chunk * left.chunkBytes, right.offset + chunk * right.chunkBytes, c, ownBegin, ownEnd, right.blocks, PANEL_ROWS, ldc * 8, symmetric ? 1 : 0);
      }
    } catch (err) {
      ownError = err;
    }
    try {
      await Promise.all(jobs);
    } finally {
      for (const slot of this.workers) if (slot.pending.size === 0) slot.worker.unref();
    }
    if (ownError) throw ownError;
    Atomics.load(new Int32Array(this.memory!.buffer, 0, 16), fence / 4); // pairs with the workers' Atomics.add
  }

  private startWorkers(count: number): void {
    while (this.workers.length < count) {
      const worker = new Worker(new URL('./gemm-worker.js', import.meta.url));
      const slot: WorkerSlot = { worker, pending: new Map() };
      worker.on('message', (msg: { id: number; error?: string }) => {
        const job = slot.pending.get(msg.id);
        if (!job) return;
        slot.pending.delete(msg.id);
        if (msg.error) job.reject(new InvalidArgumentError(`linreg worker failed: ${msg.error}`));
        else job.resolve();
      });
      worker.on('error', (err) => {
        for (const job of slot.pending.values()) job.reject(err);
        slot.pending.clear();
      });
      const init: GemmWorkerInit = { type: 'init', module: this.module!, memory: this.memory! };
      worker.postMessage(init);
      worker.unref();
      this.workers.push(slot);
    }
  }

  private post(index: number, msg: GemmWorkerRun): Promise<void> {
    const slot = this.workers[index]!;
    slot.worker.ref();
    return new Promise<void>((resolve, reject) => {
      slot.pending.set(msg.id, { resolve, reject });
      slot.worker.postMessage(msg);
    });
  }

  /**
   * Xᵀ·Y as a new host array `[left.cols, right.cols]` (float64, row-major).
   * With `symmetric` (X and Y the same packed matrix) the lower triangle is mirrored from the upper.
   */
  async productTN(left: PackedMatrix, right: PackedMatrix, symmetric = false): Promise<Float64Array> {
    const m = this.mark();
    try {
      const ldc = right.blocks * 4;
      const c = this.alloc(left.blocks * 4 * ldc);
      this.heap().fill(0, c / 8, c / 8 + left.blocks * 4 * ldc);
      await this.accumulateParallel(left, right, c, ldc, symmetric);
      return this.copyOut(c, ldc, left.cols, right.cols, symmetric);
    } finally {
      this.release(m);
    }
  }

  /** Synchronous `productTN` (calling thread only). */
  productTNSync(left: PackedMatrix, right: PackedMatrix, symmetric = false): Float64Array {
    const m = this.mark();
    try {
      const ldc = right.blocks * 4;
      const c = this.alloc(left.blocks * 4 * ldc);
      this.heap().fill(0, c / 8, c / 8 + left.blocks * 4 * ldc);
      this.accumulate(left, right, c, ldc, symmetric);
      return this.copyOut(c, ldc, left.cols, right.cols, symmetric);
    } finally {
      this.release(m);
    }
  }

  /** Copies the `[rows, cols]` top-left part of an engine matrix (row stride `ldc`) to a new host array. */
  copyOut(c: number, ldc: number, rows: number, cols: number, mirror = false): Float64Array {
    const f = this.heap();
    const out = new Float64Array(rows * cols);
    for (let a = 0; a < rows; a++) out.set(f.subarray(c / 8 + a * ldc, c / 8 + a * ldc + cols), a * cols);
    if (mirror) mirrorUpper(out, rows);
    return out;
  }

  /** Stops the worker threads (the engine keeps working on the calling thread). */
  close(): void {
    this.closed = true;
    for (const slot of this.workers) void slot.worker.terminate();
    this.workers.length = 0;
    workerReaper.unregister(this);
  }
}

/** Copies the upper triangle of a square row-major `[d, d]` matrix onto its lower triangle. */
export function mirrorUpper(m: Float64Array, d: number): void {
  for (let a = 1; a < d; a++) for (let b = 0; b < a; b++) m[a * d + b] = m[b * d + a]!;
}

/** Splits block rows 0..aBlocks into `parts` contiguous ranges of about equal work. */
function splitBlockRows(aBlocks: number, bBlocks: number, parts: number, symmetric: boolean): [number, number][] {
  const work = (ab: number) => (symmetric ? Math.max(bBlocks - ab, 0) : bBlocks);
  let total = 0;
  for (let ab = 0; ab < aBlocks; ab++) total += work(ab);
  const ranges: [number, number][] = [];
  let begin = 0;
  let acc = 0;
  for (let p = 0; p < parts; p++) {
    const target = (total * (p + 1)) / parts;
    let end = begin;
    while (end < aBlocks && (acc + work(end) <= target + 1e-9 || end === begin)) acc += work(end++);
    if (p === parts - 1) end = aBlocks;
    ranges.push([begin, end]);
    begin = end;
  }
  return ranges.filter(([b, e]) => e > b);
}
