/**
 * `ShortcutAccumulator`: streams `StateBatch`es (from `collectStates({ onBatch })`) into float64 Gram
 * matrices, so the maps of §7/§8 are fitted from any number of samples with memory independent of N.
 *
 * Sharing: every A_{j,i} with the same source i shares XᵀX = h_iᵀh_i, so there is one `GramAccumulator`
 * per source layer i < L whose targets are h_{i+1} … h_L side by side (`[B, d·(L−i)]`), plus — with
 * `submodules` — registry 1 of block i (π_{i,0→1}: registry 0 of block i is h_i). Per block, three more
 * accumulators fit π_{b,1→2}, π_{b,3→4}, π_{b,4→5}. Memory: (L + 3L) Gram matrices d×d and
 * (L(L+1)/2 + 4L) cross matrices d×d in float64 (GPT-2 small: ≈ 0.8 GiB), whatever N is.
 */
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { GramAccumulator, solveFromStatistics, type GramStatistics } from '../linreg/gram.js';
import { GemmEngine } from '../linreg/gemm-engine.js';
import { shortcutKey, type ShortcutMap } from '../linreg/shortcuts.js';
import type { StateBatch } from './collect.js';
import { submoduleKey, type MatMaps, type SubmoduleMap } from './maps.js';

/** Options of `ShortcutAccumulator`. */
export interface ShortcutAccumulatorOptions {
  /** Also fit the sub-module maps π (batches must carry registries). Default false. */
  submodules?: boolean;
  /** Threads per Gram product, calling thread included (default 1; every accumulator has its own engine). */
  threads?: number;
  /** 'host' (float64 kernel, default) or 'tfjs' (float32 products on the active backend, float64 sums). */
  device?: 'host' | 'tfjs';
}

/** Options of `ShortcutAccumulator.solve`. */
export interface MatSolveOptions {
  /** Relative cut-off for singular Gram matrices (default 2⁻⁴⁶). */
  rcond?: number;
  /** Ridge penalty (default 0 = ordinary least squares). */
  ridge?: number;
  /** Precision of the weights (default 'float64'). */
  dtype?: 'float32' | 'float64';
}

/**
 * The float64 sums of a `ShortcutAccumulator` (copies): what a shard of a sharded run writes, and what
 * `addShortcutStatistics` adds up across shards before `solveShortcutStatistics`.
 */
export interface ShortcutStatistics {
  nLayers: number;
  dModel: number;
  /** Whether the sub-module sums are present. */
  submodules: boolean;
  /** `[L]`: source layer i, targets h_{i+1} … h_L side by side (plus registry 1 of block i with submodules). */
  fromLayer: GramStatistics[];
  /** `[L][3]` with submodules (π_{b,1→2}, π_{b,3→4}, π_{b,4→5}), else `[]`. */
  perBlock: GramStatistics[][];
  /** Samples added. */
  count: number;
}

/** Streams state batches into the Gram matrices of every shortcut and sub-module map. */
export class ShortcutAccumulator {
  readonly nLayers: number;
  readonly dModel: number;
  readonly submodules: boolean;
  private readonly threads: number;
  private readonly fromLayer: GramAccumulator[];
  /** Per block: accumulators of π_{b,1→2}, π_{b,3→4}, π_{b,4→5}. */
  private readonly perBlock: GramAccumulator[][];
  private n = 0;

  constructor(nLayers: number, dModel: number, opts: ShortcutAccumulatorOptions = {}) {
    if (!Number.isInteger(nLayers) || nLayers < 1 || !Number.isInteger(dModel) || dModel < 1) {
      throw new InvalidArgumentError(`ShortcutAccumulator: nLayers and dModel must be positive integers, got ${nLayers}, ${dModel}`);
    }
    this.nLayers = nLayers;
    this.dModel = dModel;
    this.submodules = opts.submodules ?? false;
    this.threads = opts.threads ?? 1;
    const accOpts = { threads: this.threads, device: opts.device };
    const d = dModel;
    this.fromLayer = Array.from({ length: nLayers }, (_, i) => new GramAccumulator(d, d * (nLayers - i) + (this.submodules ? d : 0), accOpts));
    this.perBlock = this.submodules ? Array.from({ length: nLayers }, () => [new GramAccumulator(d, d, accOpts), new GramAccumulator(d, d, accOpts), new GramAccumulator(d, d, accOpts)]) : [];
  }

  /** Samples added so far. */
  get count(): number {
    return this.n;
  }

  /** Adds one batch (h_0 … h_L, and registries when `submodules`). */
  async add(batch: StateBatch): Promise<void> {
    const L = this.nLayers;
    const d = this.dModel;
    if (batch.states.length !== L + 1) throw new ShapeMismatchError('ShortcutAccumulator.add: states', `${L + 1} layers`, `${batch.states.length} layers`);
    const B = batch.states[0]!.length / d;
    if (!Number.isInteger(B) || batch.states.some((s) => s.length !== B * d)) throw new ShapeMismatchError('ShortcutAccumulator.add: states', `[B, ${d}] per layer, same B`, batch.states.map((s) => s.length).join('/') + ' values');
    if (this.submodules && (!batch.registries || batch.registries.length !== L)) {
      throw new InvalidArgumentError('ShortcutAccumulator.add: this accumulator fits sub-module maps but the batch has no registries', 'collect with { registries: true }');
    }
    if (B === 0) return;
    const add = (acc: GramAccumulator, x: Float32Array, y: Float32Array, cols: number): Promise<void> | void =>
      this.threads > 1 ? acc.addAsync({ data: x, shape: [B, d] }, { data: y, shape: [B, cols] }) : acc.add({ data: x, shape: [B, d] }, { data: y, shape: [B, cols] });
    for (let i = 0; i < L; i++) {
      const targets = [...batch.states.slice(i + 1)];
      if (this.submodules) targets.push(batch.registries![i]![1]!);
      const cols = targets.length * d;
      const y = new Float32Array(B * cols);
      for (let r = 0; r < B; r++) targets.forEach((t, k) => y.set(t.subarray(r * d, (r + 1) * d), r * cols + k * d));
      await add(this.fromLayer[i]!, batch.states[i]!, y, cols);
    }
    if (this.submodules) {
      for (let b = 0; b < L; b++) {
        const reg = batch.registries![b]!;
        const accs = this.perBlock[b]!;
        await add(accs[0]!, reg[1]!, reg[2]!, d);
        await add(accs[1]!, reg[3]!, reg[4]!, d);
        await add(accs[2]!, reg[4]!, reg[5]!, d);
      }
    }
    this.n += B;
  }

  /** Copies of the accumulated sums (see `ShortcutStatistics`). */
  statistics(): ShortcutStatistics {
    return { nLayers: this.nLayers, dModel: this.dModel, submodules: this.submodules, fromLayer: this.fromLayer.map((a) => a.statistics()), perBlock: this.perBlock.map((accs) => accs.map((a) => a.statistics())), count: this.n };
  }

  /** Solves every map: A_{j,i} for all i < j, and π_{b,a→a+1} for a ∈ {0,1,3,4} when `submodules`. */
  solve(opts: MatSolveOptions = {}): MatMaps {
    return solveShortcutStatistics(this.statistics(), opts);
  }

  /** Stops worker threads of the underlying accumulators. */
  dispose(): void {
    for (const acc of [...this.fromLayer, ...this.perBlock.flat()]) acc.dispose();
  }
}

/**
 * Adds the sums of several `ShortcutStatistics` (e.g. the shards of a run) in float64, in the order given.
 * @throws ShapeMismatchError when they differ in L, d_model or sub-module sums.
 */
export function addShortcutStatistics(parts: readonly ShortcutStatistics[]): ShortcutStatistics {
  if (parts.length === 0) throw new InvalidArgumentError('addShortcutStatistics: nothing to add');
  const first = parts[0]!;
  const layout = (s: ShortcutStatistics) => `L = ${s.nLayers}, d = ${s.dModel}, submodules ${s.submodules}`;
  for (const p of parts) if (layout(p) !== layout(first)) throw new ShapeMismatchError('addShortcutStatistics', layout(first), layout(p));
  const add = (stats: GramStatistics[]): GramStatistics => {
    const out = { xtx: Float64Array.from(stats[0]!.xtx), xty: Float64Array.from(stats[0]!.xty), sumX: Float64Array.from(stats[0]!.sumX), sumY: Float64Array.from(stats[0]!.sumY), count: stats[0]!.count };
    for (const s of stats.slice(1)) {
      for (const key of ['xtx', 'xty', 'sumX', 'sumY'] as const) {
        const dst = out[key];
        const src = s[key];
        if (src.length !== dst.length) throw new ShapeMismatchError(`addShortcutStatistics: ${key}`, `${dst.length} values`, `${src.length} values`);
        for (let k = 0; k < dst.length; k++) dst[k] += src[k]!;
      }
      out.count += s.count;
    }
    return out;
  };
  return {
    nLayers: first.nLayers,
    dModel: first.dModel,
    submodules: first.submodules,
    fromLayer: first.fromLayer.map((_, i) => add(parts.map((p) => p.fromLayer[i]!))),
    perBlock: first.perBlock.map((accs, b) => accs.map((_, k) => add(parts.map((p) => p.perBlock[b]![k]!)))),
    count: parts.reduce((n, p) => n + p.count, 0),
  };
}

/** Solves every map from accumulated sums (what `ShortcutAccumulator.solve` does with its own). */
export function solveShortcutStatistics(stats: ShortcutStatistics, opts: MatSolveOptions = {}): MatMaps {
  if (stats.count === 0) throw new InvalidArgumentError('ShortcutAccumulator.solve: no samples were added');
  const engine = GemmEngine.create({ threads: 1 });
  try {
    return solveWith(stats, engine, opts);
  } finally {
    engine.close();
  }
}

function solveWith(stats: ShortcutStatistics, engine: GemmEngine, opts: MatSolveOptions): MatMaps {
  const L = stats.nLayers;
  const d = stats.dModel;
  const solveOpts = { intercept: false, rcond: opts.rcond, ridge: opts.ridge, dtype: 'float64' as const };
  const f32 = opts.dtype === 'float32';
  const shortcuts = new Map<string, ShortcutMap>();
  const submodules = new Map<string, SubmoduleMap>();
  const cut = (weight: Float32Array | Float64Array, k: number) => {
    const rows = weight.subarray(k * d * d, (k + 1) * d * d);
    return f32 ? Float32Array.from(rows) : Float64Array.from(rows);
  };
  for (let i = 0; i < L; i++) {
    const fit = solveFromStatistics(stats.fromLayer[i]!, engine, solveOpts);
    const common = { bias: null, shape: [d, d] as [number, number], method: fit.method, rank: fit.rank, samples: fit.samples, ridge: fit.ridge };
    for (let j = i + 1; j <= L; j++) shortcuts.set(shortcutKey(i, j), { ...common, weight: cut(fit.weight, j - i - 1), from: i, to: j, key: shortcutKey(i, j) });
    if (stats.submodules) submodules.set(submoduleKey(i, 0), { ...common, weight: cut(fit.weight, L - i), block: i, from: 0, to: 1, key: submoduleKey(i, 0) });
  }
  const ordered = [...shortcuts.values()].sort((a, b) => a.from - b.from || a.to - b.to);
  if (stats.submodules) {
    for (let b = 0; b < L; b++) {
      [1, 3, 4].forEach((a, k) => {
        const fit = solveFromStatistics(stats.perBlock[b]![k]!, engine, solveOpts);
        submodules.set(submoduleKey(b, a), { ...fit, weight: f32 ? Float32Array.from(fit.weight) : fit.weight, block: b, from: a, to: a + 1, key: submoduleKey(b, a) });
      });
    }
  }
  const sortedSub = [...submodules.values()].sort((a, b) => a.block - b.block || a.from - b.from);
  return { nLayers: L, dModel: d, shortcuts: new Map(ordered.map((m) => [m.key, m])), submodules: new Map(sortedSub.map((m) => [m.key, m])) };
}
