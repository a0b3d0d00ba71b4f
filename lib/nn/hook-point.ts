/**
 * Hook points: named places in a forward pass where an activation can be read (cached) or replaced.
 *
 * A `HookPoint` is declared as a field of a component (`readonly hookResidPre = new HookPoint()`); its
 * TransformerLens name (`blocks.3.hook_resid_pre`) is assigned once by the tree walk in `HookedModule`.
 * Hooks never live on the hook point itself (TransformerLens's global-state pitfall): each run builds a
 * `RunContext` that says which hook functions and which cache entries apply to this run only. With the
 * empty context a hook point is an identity that allocates nothing, so a plain `forward` pays nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookError, ShapeMismatchError } from '../errors.js';

/** What a hook function learns about the hook point it runs at. */
export interface HookInfo {
  /** Full hook name, e.g. `blocks.3.attn.hook_pattern`. */
  readonly name: string;
  /** Block index parsed from `blocks.{i}.` (undefined outside blocks). */
  layer(): number | undefined;
  /** Scratch space shared by the hook functions of one run. */
  readonly ctx: Record<string, unknown>;
}

/**
 * A forward hook: receives the activation (owned by the forward pass: do not dispose it) and returns
 * `undefined` to keep it, or a same-shape tensor that replaces it downstream. Hooks run synchronously
 * inside the forward's `tf.tidy`, so tensors they create are cleaned up automatically; use `tf.keep`
 * (or `hookCache`) for anything that must outlive the run.
 */
export type HookFn = (activation: tf.Tensor, hook: HookInfo) => tf.Tensor | void | undefined;

/**
 * A module override (nnsight's `.skip()` / module replacement): receives the sub-module's input (the
 * residual for a block, the layer norm output for `attn`/`mlp`, …) and returns its output, which must
 * have the input's shape (every overridable module maps `[..., dModel]` → `[..., dModel]`). The module
 * itself does not run, so its hook points do not fire. `(x) => x` on a block skips it.
 */
export type ModuleOverride = (input: tf.Tensor, module: HookInfo) => tf.Tensor;

/** A sub-module a run can override: named by the module tree walk (`blocks.3.mlp`, `decoder.blocks.0.attn`). */
export interface OverridableModule {
  readonly moduleName: string;
}

/** A named point in the forward pass. */
export class HookPoint {
  /** Full TransformerLens-style name; set by the module tree walk. */
  name = '';

  /**
   * @param path the name's last segments when they are not the field's (`'unembed.hook_in'` for a hook
   *   point that TransformerLens names after a module this model does not have as a field).
   */
  constructor(readonly path?: string) {}

  /** Block index parsed from the name (`blocks.{i}.…`, also under `encoder.`/`decoder.`). */
  layer(): number | undefined {
    return layerOf(this.name);
  }
}

/** Block index of a hook or module name (`blocks.{i}.…` or `blocks.{i}`, also under `encoder.`/`decoder.`). */
export function layerOf(name: string): number | undefined {
  const match = /(?:^|\.)blocks\.(\d+)(?:\.|$)/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** What one run does at its hook points: functions to call and names to cache. */
export class RunContext {
  /** Hook functions per hook name, in registration order. */
  readonly hooks: Map<string, HookFn[]>;
  /** Names whose activation is kept in `cache`. */
  readonly cacheNames: ReadonlySet<string>;
  /** Activations kept by this run (kept out of tf.tidy). */
  readonly cache = new Map<string, tf.Tensor>();
  /** Shared scratch space of the hook functions. */
  readonly scratch: Record<string, unknown> = {};
  /** Module overrides by module name (`blocks.3.mlp`). */
  readonly overrides: ReadonlyMap<string, ModuleOverride>;

  constructor(hooks: Map<string, HookFn[]> = new Map(), cacheNames: ReadonlySet<string> = new Set(), overrides: ReadonlyMap<string, ModuleOverride> = new Map()) {
    this.hooks = hooks;
    this.cacheNames = cacheNames;
    this.overrides = overrides;
  }

  /**
   * Runs a sub-module, or its override when this run has one: `run()` computes the module's own output
   * from `input`; an override replaces it (and the module's hooks do not fire). In a `blockwise` run the
   * sub-module runs in its own `tf.tidy`, so its intermediates (attention scores, the MLP's hidden layer) are
   * freed as soon as it returns instead of when its block ends.
   */
  call(module: OverridableModule, input: tf.Tensor, run: () => tf.Tensor): tf.Tensor {
    const override = this.overrides.size ? this.overrides.get(module.moduleName) : undefined;
    if (!override) return this.block(run);
    const name = module.moduleName;
    const info: HookInfo = { name, layer: () => layerOf(name), ctx: this.scratch };
    const out = override(input, info);
    if (!(out instanceof tf.Tensor)) throw new ShapeMismatchError(`override of '${name}' returned a non-tensor`, `[${input.shape.join(',')}]`, String(out));
    if (!tf.util.arraysEqual(out.shape, input.shape)) throw new ShapeMismatchError(`override of '${name}' returned an output`, `[${input.shape.join(',')}] (the module's input shape)`, out.shape);
    return out === input ? tf.clone(input) : out;
  }

  /**
   * True when no hook function or override runs: then nothing outside the pass can hold a tensor made in one
   * block for a later one, so each block may run in its own `tf.tidy` (its intermediates freed as soon as it
   * ends; cached activations are kept regardless). With hooks, the pass stays one `tf.tidy`, so that a
   * tensor a hook keeps in `ctx` for a later block lives until the pass ends.
   */
  get blockwise(): boolean {
    return this.hooks.size === 0 && this.overrides.size === 0;
  }

  /** Runs one block's (or sub-module's) work: in its own `tf.tidy` when `blockwise`, else in the pass's scope. */
  block<T extends tf.Tensor>(fn: () => T): T {
    return this.blockwise ? tf.tidy(fn) : fn();
  }

  /**
   * In a `blockwise` run, frees `x` — a block's output that the next block has consumed — unless this run caches
   * it (the next block's `hook_resid_pre` is the same tensor). Otherwise every block's output would stay until the
   * pass ends (24 × 6.5 MB for ViT-L/16 at batch 8). With hooks it does nothing: a hook may hold `x`.
   */
  release(x: tf.Tensor): void {
    if (!this.blockwise || x.isDisposed) return;
    for (const kept of this.cache.values()) if (kept === x) return;
    x.dispose();
  }

  /** True when the run reads or writes the activation at `name` (used for lazily computed hooks). */
  wants(name: string): boolean {
    return this.hooks.has(name) || this.cacheNames.has(name);
  }

  /** Passes `activation` through the hook point: runs its hook functions, then caches the result. */
  apply<T extends tf.Tensor>(point: HookPoint, activation: T): T {
    const fns = this.hooks.get(point.name);
    let value: tf.Tensor = activation;
    if (fns) {
      const info: HookInfo = { name: point.name, layer: () => point.layer(), ctx: this.scratch };
      for (const [i, fn] of fns.entries()) {
        const replaced = fn(value, info);
        if (value.isDisposed) throw new HookError(point.name, hookLabel(fn, i), 'disposed the activation it was given');
        if (replaced === undefined || replaced === value) continue;
        if (!(replaced instanceof tf.Tensor)) {
          throw new ShapeMismatchError(`hook at '${point.name}' returned a non-tensor`, `[${value.shape.join(',')}]`, String(replaced));
        }
        if (replaced.isDisposed) throw new HookError(point.name, hookLabel(fn, i), 'returned a disposed tensor', 'return a live tensor (one made in the hook, or tf.keep-ed), or undefined to keep the activation');
        if (!tf.util.arraysEqual(replaced.shape, value.shape)) {
          throw new ShapeMismatchError(`hook at '${point.name}' returned a replacement`, `[${value.shape.join(',')}]`, replaced.shape);
        }
        // A new handle (tf.clone shares the data, no copy): the run then owns what flows on and what it
        // caches, even when a hook returns a tensor it does not own (e.g. one from another run's cache).
        value = replaced.dtype === value.dtype ? tf.clone(replaced) : tf.cast(replaced, value.dtype);
      }
    }
    if (this.cacheNames.has(point.name)) this.cache.set(point.name, tf.keep(value));
    return value as T;
  }
}

/** Names a hook function in errors: `'patchFn'`, or `#2` (its place among the hooks at one point) when anonymous. */
function hookLabel(fn: HookFn, index: number): string {
  return fn.name ? `'${fn.name}'` : `#${index + 1}`;
}

/** The context of a plain forward: no hooks, no cache. */
export const NO_HOOKS = new RunContext();
