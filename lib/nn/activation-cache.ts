/**
 * `ActivationCache`: the activations one `runWithCache` kept, by hook name. Only what `namesFilter`
 * asked for is ever stored. With `device: 'cpu'` the values are moved to host memory right after the
 * run and turned back into tensors only when read. `dispose()` frees everything.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, NotCachedError, UnknownHookError } from '../errors.js';
import { closeMatches, getActName, canonicalAlias } from './hook-names.js';
import { readSync } from '../math/sync-read.js';

interface HostEntry {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: Float32Array | Int32Array | Uint8Array;
}

/** @internal The host values of every distinct tensor of a run's cache, read asynchronously (for `device: 'cpu'`). */
export async function readHostValues(entries: ReadonlyMap<string, tf.Tensor>): Promise<Map<tf.Tensor, HostEntry['data']>> {
  const out = new Map<tf.Tensor, HostEntry['data']>();
  for (const t of new Set(entries.values())) out.set(t, (await t.data()) as HostEntry['data']);
  return out;
}

/** Activations of one run, by TransformerLens hook name. */
export class ActivationCache {
  private readonly device = new Map<string, tf.Tensor>();
  private readonly host = new Map<string, HostEntry>();
  private disposed = false;

  /**
   * @internal built by `runWithCache`. Takes ownership of the tensors. `modelHooks` (every hook name of
   * the model) lets `get` tell a name the run did not cache from a name that does not exist. With
   * `where: 'cpu'`, `hostValues` holds each tensor's values read beforehand (`readHostValues`, asynchronous:
   * webgpu in Node has no synchronous read); a tensor missing there is read synchronously.
   */
  constructor(entries: Map<string, tf.Tensor>, where: 'gpu' | 'cpu' = 'gpu', private readonly modelHooks: readonly string[] = [], private readonly aliases: ReadonlyMap<string, string> = new Map(), hostValues: ReadonlyMap<tf.Tensor, HostEntry['data']> = new Map()) {
    const copies = new Map<tf.Tensor, HostEntry>(); // one host copy per tensor (hook_attn_in and hook_q/k/v_input share one)
    for (const [name, t] of entries) {
      if (where === 'cpu') {
        let entry = copies.get(t);
        if (!entry) copies.set(t, (entry = { shape: t.shape, dtype: t.dtype as HostEntry['dtype'], data: hostValues.get(t) ?? (readSync(t, `ActivationCache (device 'cpu') of '${name}'`, 'use runWithCache({ device: \'cpu\' }), which reads asynchronously') as HostEntry['data']) }));
        this.host.set(name, entry);
      } else {
        this.device.set(name, t);
      }
    }
    if (where === 'cpu') disposeUnique(entries.values());
  }

  /** Cached hook names, in forward order. */
  keys(): string[] {
    return this.host.size ? [...this.host.keys()] : [...this.device.keys()];
  }

  /** Number of cached activations. */
  get size(): number {
    return this.host.size + this.device.size;
  }

  /** True when `name` (full name, `getActName` shorthand or 3.x alias) is cached. */
  has(name: string, layer?: number): boolean {
    if (layer !== undefined && layer < 0) layer = this.absoluteLayer(layer);
    const full = this.resolve(name, layer, false);
    return full !== undefined;
  }

  private resolve(name: string, layer: number | undefined, strict: boolean): string | undefined {
    const candidates = [name, getActName(name, layer), this.aliases.get(name), canonicalAlias(name)];
    for (const c of candidates) if (c && (this.device.has(c) || this.host.has(c))) return c;
    if (strict) {
      const valid = candidates.find((c) => c && this.modelHooks.includes(c));
      if (valid) throw new NotCachedError(valid, this.keys());
      throw new UnknownHookError(name, closeMatches(getActName(name, layer), this.modelHooks.length ? this.modelHooks : this.keys()));
    }
    return undefined;
  }

  /**
   * The activation at `name` (owned by the cache: do not dispose it; it lives until `cache.dispose()`).
   * Accepts full names (`blocks.2.hook_resid_post`), shorthands with a layer (`get('resid_post', 2)`,
   * `get('k6')`) and negative layers counted from the model's last block, as in TransformerLens
   * (`get('resid_post', -1)` = the model's last block; `NotCachedError` when the run did not cache it,
   * never another block's value).
   */
  get(name: string, layer?: number): tf.Tensor {
    if (this.disposed) throw new UnknownHookError(name, ['(the cache was disposed)']);
    if (layer !== undefined && layer < 0) layer = this.absoluteLayer(layer);
    const full = this.resolve(name, layer, true)!;
    let tensor = this.device.get(full);
    if (!tensor) {
      const h = this.host.get(full)!;
      tensor = tf.tensor(h.data, h.shape, h.dtype);
      this.device.set(full, tensor);
    }
    return tensor;
  }

  /** Host copy of one activation: `{ shape, dtype, data }`. */
  async toHost(name: string, layer?: number): Promise<HostEntry> {
    const full = this.resolve(name, layer, true)!;
    const h = this.host.get(full);
    if (h) return h;
    const t = this.device.get(full)!;
    return { shape: t.shape, dtype: t.dtype as HostEntry['dtype'], data: (await t.data()) as HostEntry['data'] };
  }

  /** `−k` → the model's block L − k; `InvalidArgumentError` below −L. */
  private absoluteLayer(layer: number): number {
    const L = this.numLayers();
    if (!Number.isInteger(layer) || layer < -L) throw new InvalidArgumentError(`layer ${layer} is outside −${L}..${L - 1}`, `the model has ${L} blocks; negative layers count from the last one`);
    return L + layer;
  }

  /**
   * Number of blocks L of the model that made the cache (max block index + 1 among its hook names;
   * of the cached names for a cache built without the model's names).
   */
  numLayers(): number {
    let max = -1;
    for (const k of this.modelHooks.length ? this.modelHooks : this.keys()) {
      const m = /(?:^|\.)blocks\.(\d+)\./.exec(k);
      if (m) max = Math.max(max, Number(m[1]));
    }
    return max + 1;
  }

  /** Frees every cached tensor. Idempotent. */
  dispose(): void {
    disposeUnique(this.device.values());
    this.device.clear();
    this.host.clear();
    this.disposed = true;
  }
}

function disposeUnique(tensors: Iterable<tf.Tensor>): void {
  for (const t of new Set(tensors)) t.dispose();
}
