/**
 * `ShortcutStatistics` on disk: one safetensors file of F64 tensors (bit-exact float64 sums) — per source
 * layer i `from.{i}.xtx` `[d, d]`, `from.{i}.xty` `[d, cols]`, `from.{i}.sum_x` `[d]`, `from.{i}.sum_y`
 * `[cols]`; with sub-module sums `block.{b}.{k}.…` likewise (k = 0, 1, 2: π_{b,1→2}, π_{b,3→4}, π_{b,4→5}) —
 * and the sample counts in the metadata. This is what one shard of a sharded `shortcuts` run writes.
 */
import { InvalidArgumentError, SafetensorsFormatError } from '../errors.js';
import { withSafetensors } from '../io/safetensors.js';
import { saveSafetensors, type HostValues } from '../io/safetensors-writer.js';
import type { GramStatistics } from '../linreg/gram.js';
import type { ShortcutStatistics } from './accumulate.js';

const FORMAT = 'tfjs-lens shortcut statistics';

function names(stats: Pick<ShortcutStatistics, 'nLayers' | 'submodules'>): string[] {
  const out = Array.from({ length: stats.nLayers }, (_, i) => `from.${i}`);
  if (stats.submodules) for (let b = 0; b < stats.nLayers; b++) for (let k = 0; k < 3; k++) out.push(`block.${b}.${k}`);
  return out;
}

function flat(stats: ShortcutStatistics): GramStatistics[] {
  return [...stats.fromLayer, ...stats.perBlock.flat()];
}

/** Writes `stats` to `path` (F64 tensors; counts, L, d and the sub-module flag in the metadata). */
export async function saveShortcutStatistics(path: string, stats: ShortcutStatistics): Promise<void> {
  const tensors: Record<string, HostValues> = {};
  const counts: number[] = [];
  const all = flat(stats);
  names(stats).forEach((name, k) => {
    const g = all[k]!;
    const dIn = g.sumX.length;
    const dOut = g.sumY.length;
    tensors[`${name}.xtx`] = { shape: [dIn, dIn], data: g.xtx, dtype: 'F64' };
    tensors[`${name}.xty`] = { shape: [dIn, dOut], data: g.xty, dtype: 'F64' };
    tensors[`${name}.sum_x`] = { shape: [dIn], data: g.sumX, dtype: 'F64' };
    tensors[`${name}.sum_y`] = { shape: [dOut], data: g.sumY, dtype: 'F64' };
    counts.push(g.count);
  });
  await saveSafetensors(path, tensors, { format: FORMAT, n_layers: String(stats.nLayers), d_model: String(stats.dModel), submodules: String(stats.submodules), count: String(stats.count), counts: JSON.stringify(counts) });
}

/**
 * Reads a file written by `saveShortcutStatistics`.
 * @throws SafetensorsFormatError when the file is not such a file (metadata, names, dtypes or shapes).
 */
export async function readShortcutStatistics(path: string): Promise<ShortcutStatistics> {
  return withSafetensors(path, async (file) => {
    const meta = file.header.metadata;
    if (meta.format !== FORMAT) throw new SafetensorsFormatError(path, `not a ${FORMAT} file (format '${meta.format ?? ''}')`);
    const nLayers = Number(meta.n_layers);
    const dModel = Number(meta.d_model);
    const submodules = meta.submodules === 'true';
    let counts: unknown;
    try {
      counts = JSON.parse(meta.counts ?? '');
    } catch {
      counts = undefined;
    }
    const layout = { nLayers, submodules };
    const entries = names(layout);
    if (!Number.isInteger(nLayers) || nLayers < 1 || !Number.isInteger(dModel) || dModel < 1 || !Array.isArray(counts) || counts.length !== entries.length || !counts.every((c) => Number.isSafeInteger(c) && c >= 0)) {
      throw new SafetensorsFormatError(path, 'bad n_layers / d_model / counts metadata');
    }
    const read = async (name: string, shape: (s: number[]) => boolean): Promise<Float64Array> => {
      const info = file.info(name);
      if (info.dtype !== 'F64' || !shape(info.shape)) throw new SafetensorsFormatError(path, `tensor '${name}' is ${info.dtype} [${info.shape.join(',')}], expected F64 of the statistics' shape`);
      const bytes = await file.readBytes(name);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return Float64Array.from({ length: bytes.byteLength / 8 }, (_, k) => view.getFloat64(k * 8, true));
    };
    const grams: GramStatistics[] = [];
    for (const [k, name] of entries.entries()) {
      const xtx = await read(`${name}.xtx`, (s) => s.length === 2 && s[0] === dModel && s[1] === dModel);
      const sumY = await read(`${name}.sum_y`, (s) => s.length === 1);
      const xty = await read(`${name}.xty`, (s) => s.length === 2 && s[0] === dModel && s[1] === sumY.length);
      const sumX = await read(`${name}.sum_x`, (s) => s.length === 1 && s[0] === dModel);
      grams.push({ xtx, xty, sumX, sumY, count: counts[k] as number });
    }
    const count = Number(meta.count);
    if (!grams.every((g) => g.count === count)) throw new InvalidArgumentError(`${path}: the per-map sample counts ${JSON.stringify(counts)} differ from count ${meta.count}`);
    return { nLayers, dModel, submodules, fromLayer: grams.slice(0, nLayers), perBlock: submodules ? Array.from({ length: nLayers }, (_, b) => grams.slice(nLayers + 3 * b, nLayers + 3 * b + 3)) : [], count };
  });
}
