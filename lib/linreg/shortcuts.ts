/**
 * Linear shortcuts A_{j,i} (docs/methods.md §7, "Jump to Conclusions"): for every pair of layers
 * 0 ≤ i < j ≤ L, the least-squares map with h_j ≈ A_{j,i}·h_i, **no intercept**, solved in float64.
 * Layers use the mat convention ℓ = 0 … L meaning h_ℓ (h_0 = embeddings, h_L before the final LN).
 * Maps are keyed `'i_j'` (the original file names).
 *
 * Cost and sharing: all maps from layer i share XᵀX = h_iᵀh_i, so it is accumulated, factorised and
 * inverted once per i; each pair then needs its cross Gram h_iᵀh_j (N·d² multiply-adds, the dominant
 * cost: 78 pairs × 9000 × 768² ≈ 4·10¹¹ for GPT-2 small) and one d×d product A = (h_iᵀh_j)ᵀ·(h_iᵀh_i)⁻¹.
 * The products run on the float64 WebAssembly kernel over all threads (`gemm-engine.ts`), or, with
 * `device: 'tfjs'`, on the active tfjs backend in float32 slices summed in float64.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ShapeMismatchError } from '../errors.js';
import { GemmEngine } from './gemm-engine.js';
import { DEFAULT_RCOND, invertGram } from './gram-inverse.js';
import type { FloatArray, LinearMap } from './types.js';

/** A fitted shortcut h_to ≈ weight·h_from. */
export interface ShortcutMap extends LinearMap {
  /** Source layer i. */
  from: number;
  /** Target layer j. */
  to: number;
  /** `'i_j'`. */
  key: string;
}

/** Source of hidden states: `[N, d]` row-major values of layer ℓ (the same N samples for every ℓ). */
export type StateSource = (layer: number) => FloatArray | Promise<FloatArray>;

/** Options of `fitAllShortcuts`. */
export interface ShortcutFitOptions {
  /** Layers to connect (ascending); default 0 … L. Every pair i < j of them is fitted. */
  layers?: readonly number[];
  /** Host: threads (calling thread included). Default `os.availableParallelism()`. */
  threads?: number;
  /** 'host' (float64 kernel, default) or 'tfjs' (float32 products on the active backend, float64 sums). */
  device?: 'host' | 'tfjs';
  /** tfjs: rows per float32 product. Default 1024. */
  tfjsSliceRows?: number;
  /** Ridge penalty (default 0 = ordinary least squares, as the original). */
  ridge?: number;
  /** Relative cut-off for singular Gram matrices (see `gram-inverse.ts`). Default 2⁻⁴⁶. */
  rcond?: number;
  /** Precision of the returned weights. Default 'float32'. */
  dtype?: 'float32' | 'float64';
  /** Called with each map as soon as it is fitted (i ascending, then j ascending). */
  onMap?: (map: ShortcutMap) => void | Promise<void>;
  /** Keep the maps in the returned Map (default true; set false with `onMap` for large models). */
  keep?: boolean;
  /** Host: rows packed at once (bounds memory; default: as many as fit in 256 MiB per operand). */
  maxPackedRows?: number;
}

/** The key of the map from layer i to layer j: `'i_j'`. */
export function shortcutKey(from: number, to: number): string {
  return `${from}_${to}`;
}

/**
 * Fits every shortcut A_{j,i}, i < j, between the given layers (default 0 … L).
 * @param states `[N, d]` float values of layer ℓ, same samples in the same order for every ℓ.
 * @param L number of blocks (states exist for ℓ = 0 … L).
 * @param d state width (d_model).
 * @returns map key `'i_j'` → `ShortcutMap` with weight `[d, d]` (empty when `keep: false`).
 */
export async function fitAllShortcuts(states: StateSource, L: number, d: number, opts: ShortcutFitOptions = {}): Promise<Map<string, ShortcutMap>> {
  const layers = [...(opts.layers ?? Array.from({ length: L + 1 }, (_, l) => l))];
  for (let k = 0; k < layers.length; k++) {
    const l = layers[k]!;
    if (!Number.isInteger(l) || l < 0 || l > L || (k > 0 && l <= layers[k - 1]!)) {
      throw new InvalidArgumentError(`fitAllShortcuts: layers must be ascending integers in 0..${L}, got [${layers.join(',')}]`);
    }
  }
  if (!Number.isInteger(d) || d < 1) throw new InvalidArgumentError(`fitAllShortcuts: d must be a positive integer, got ${d}`);
  const ridge = opts.ridge ?? 0;
  if (!(ridge >= 0)) throw new InvalidArgumentError(`fitAllShortcuts: ridge must be ≥ 0, got ${ridge}`);
  if (opts.device !== undefined && opts.device !== 'host' && opts.device !== 'tfjs') throw new InvalidArgumentError(`fitAllShortcuts: unknown device '${String(opts.device)}'`, "use 'host' or 'tfjs'");
  const keep = opts.keep ?? true;
  const out = new Map<string, ShortcutMap>();
  const engine = GemmEngine.create({ threads: opts.threads });
  let samples = -1;
  const load = async (layer: number): Promise<FloatArray> => {
    const values = await states(layer);
    if (values.length % d !== 0) throw new ShapeMismatchError(`fitAllShortcuts: states(${layer})`, `[N, ${d}]`, `${values.length} values`);
    const n = values.length / d;
    if (samples < 0) samples = n;
    if (n !== samples) throw new ShapeMismatchError(`fitAllShortcuts: states(${layer})`, `[${samples}, ${d}] like the first layer`, [n, d]);
    if (n === 0) throw new InvalidArgumentError('fitAllShortcuts: no samples');
    return values;
  };
  try {
    for (let a = 0; a + 1 < layers.length; a++) {
      const from = layers[a]!;
      const X = await load(from);
      const products = opts.device === 'tfjs' ? tfjsProducts(X, d, opts.tfjsSliceRows ?? 1024) : hostProducts(engine, X, d, opts.maxPackedRows);
      try {
        const G = await products.gram();
        if (ridge > 0) for (let c = 0; c < d; c++) G[c * d + c] += ridge;
        const inv = invertGram(G, d, engine, opts.rcond ?? DEFAULT_RCOND);
        const mark = engine.mark();
        try {
          const packedInverse = engine.pack(inv.inverse, d, d);
          for (let b = a + 1; b < layers.length; b++) {
            const to = layers[b]!;
            const C = await products.cross(await load(to));
            const pairMark = engine.mark();
            let weight64: Float64Array;
            try {
              weight64 = await engine.productTN(engine.pack(C, d, d), packedInverse); // A = Cᵀ·G⁻¹
            } finally {
              engine.release(pairMark);
            }
            const map: ShortcutMap = {
              weight: opts.dtype === 'float64' ? weight64 : Float32Array.from(weight64),
              bias: null, shape: [d, d], method: inv.method, rank: inv.rank, samples, ridge, from, to, key: shortcutKey(from, to),
            };
            if (keep) out.set(map.key, map);
            await opts.onMap?.(map);
          }
        } finally {
          engine.release(mark);
        }
      } finally {
        products.dispose();
      }
    }
  } finally {
    engine.close();
  }
  return out;
}

interface CrossProducts {
  /** XᵀX `[d, d]` float64. */
  gram(): Promise<Float64Array>;
  /** XᵀY `[d, d]` float64. */
  cross(Y: FloatArray): Promise<Float64Array>;
  dispose(): void;
}

/** Products on the float64 kernel; X is packed once (or once per pass when it exceeds the memory cap). */
function hostProducts(engine: GemmEngine, X: FloatArray, d: number, maxPackedRows?: number): CrossProducts {
  const n = X.length / d;
  const ld = Math.ceil(d / 4) * 4;
  const rowsPerPass = Math.max(1, Math.min(n, maxPackedRows ?? Math.floor((256 * 2 ** 20) / (ld * 8))));
  const passes = Math.ceil(n / rowsPerPass);
  const base = engine.mark();
  const packedX = passes === 1 ? engine.pack(X, n, d) : undefined;
  const run = async (Y: FloatArray | undefined): Promise<Float64Array> => {
    const mark = engine.mark();
    try {
      const c = engine.alloc(ld * ld);
      engine.heap().fill(0, c / 8, c / 8 + ld * ld);
      for (let p = 0; p < passes; p++) {
        const start = p * rowsPerPass;
        const rows = Math.min(rowsPerPass, n - start);
        const passMark = engine.mark();
        const px = packedX ?? engine.pack(X, rows, d, start);
        const py = Y ? engine.pack(Y, rows, d, start) : px;
        await engine.accumulateParallel(px, py, c, ld, !Y);
        engine.release(passMark);
      }
      return engine.copyOut(c, ld, d, d, !Y);
    } finally {
      engine.release(mark);
    }
  };
  return { gram: () => run(undefined), cross: (Y) => run(Y), dispose: () => engine.release(base) };
}

/** Products on the active tfjs backend: float32 per slice of rows, summed in float64 on the host. */
function tfjsProducts(X: FloatArray, d: number, sliceRows: number): CrossProducts {
  const n = X.length / d;
  const xt = tf.tensor2d(X instanceof Float32Array ? X : Float32Array.from(X), [n, d]);
  const run = async (Y: FloatArray | undefined): Promise<Float64Array> => {
    const yt = Y ? tf.tensor2d(Y instanceof Float32Array ? Y : Float32Array.from(Y), [n, d]) : xt;
    const total = new Float64Array(d * d);
    try {
      for (let start = 0; start < n; start += sliceRows) {
        const rows = Math.min(sliceRows, n - start);
        const part = tf.tidy(() => tf.matMul(tf.slice(xt, [start, 0], [rows, d]), tf.slice(yt, [start, 0], [rows, d]), true, false));
        const values = (await part.data()) as Float32Array;
        part.dispose();
        for (let k = 0; k < values.length; k++) total[k] += values[k]!;
      }
    } finally {
      if (yt !== xt) yt.dispose();
    }
    if (!Y) for (let r = 1; r < d; r++) for (let c = 0; c < r; c++) total[r * d + c] = total[c * d + r]!;
    return total;
  };
  return { gram: () => run(undefined), cross: (Y) => run(Y), dispose: () => xt.dispose() };
}
