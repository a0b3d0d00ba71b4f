/**
 * `HookedRoot`: what every model (GPT-2, ViT, Whisper, BERT) shares — hook-name resolution,
 * `forward`, `runWithCache` and `runWithHooks`. A model implements `prepare` (turn user input into
 * tensors, possibly async: tokenising, decoding files) and `run` (the synchronous forward pass that
 * passes every activation through `ctx.apply(hookPoint, value)`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { UnknownHookError, InvalidArgumentError } from '../errors.js';
import { HookedModule } from './hooked-module.js';
import { HookPoint, RunContext, NO_HOOKS, type HookFn } from './hook-point.js';
import { ActivationCache } from './activation-cache.js';
import { closeMatches, getActName, canonicalAlias } from './hook-names.js';
import { checkModelInput, checkNamesFilter, checkRunOptions } from './input-checks.js';

/** A hook name, a list of names, or a predicate over names. */
export type NamesFilter = string | readonly string[] | ((name: string) => boolean);

/** Options shared by every forward pass. */
export interface ForwardOptions {
  /** Stop before block `stopAtLayer` and return the residual stream `[batch, pos, dModel]` there. */
  stopAtLayer?: number;
}

/** Options of `runWithCache`. */
export interface RunWithCacheOptions extends ForwardOptions {
  /** Which activations to keep (default: all). Only these are ever stored. */
  namesFilter?: NamesFilter;
  /** `'gpu'` (default) keeps tensors on the backend; `'cpu'` moves them to host memory after the run. */
  device?: 'gpu' | 'cpu';
  /** Hooks that run during the same pass (the cache stores the values after them). */
  fwdHooks?: readonly (readonly [NamesFilter, HookFn])[];
}

/** Options of `runWithHooks`. */
export interface RunWithHooksOptions extends ForwardOptions {
  /** `[nameOrNamesOrPredicate, fn]` pairs; several hooks on one point run in this order. */
  fwdHooks: readonly (readonly [NamesFilter, HookFn])[];
}

/** Result of `runWithCache`. */
export interface CacheRun {
  /** Model output (logits, or the residual when `stopAtLayer` was given). Caller disposes it. */
  output: tf.Tensor;
  /** The kept activations. Caller disposes it (`cache.dispose()`). */
  cache: ActivationCache;
}

/** Base class of hooked models. `Input` is what users pass, `Prepared` the tensors the forward pass reads. */
export abstract class HookedRoot<Input, Prepared> extends HookedModule {
  private points?: Map<string, HookPoint>;

  /** Turns user input into tensors the forward pass reads. */
  protected abstract prepare(input: Input): Promise<Prepared> | Prepared;
  /** Frees what `prepare` allocated. */
  protected abstract release(prepared: Prepared, input: Input): void;
  /** The synchronous forward pass (runs inside `tf.tidy`). */
  protected abstract run(prepared: Prepared, ctx: RunContext, opts: ForwardOptions): tf.Tensor;

  /** Name → hook point map, built once. */
  protected hookPointMap(): Map<string, HookPoint> {
    this.points ??= this.collectHookPoints();
    return this.points;
  }

  /** Every hook name of the model, in forward order. */
  hookNames(): string[] {
    return [...this.hookPointMap().keys()];
  }

  /** Resolves a filter to concrete hook names; unknown exact names raise `UnknownHookError`. */
  resolveNames(filter: NamesFilter | undefined): string[] {
    const all = this.hookNames();
    if (filter === undefined) return all;
    checkNamesFilter(filter);
    if (typeof filter === 'function') return all.filter(filter);
    const names = typeof filter === 'string' ? [filter] : filter;
    const known = this.hookPointMap();
    return names.map((n) => {
      for (const candidate of [n, getActName(n), canonicalAlias(n)]) if (candidate && known.has(candidate)) return candidate;
      throw new UnknownHookError(n, closeMatches(getActName(n), all));
    });
  }

  private contextFor(hooks: readonly (readonly [NamesFilter, HookFn])[] | undefined, cacheNames: Set<string>): RunContext {
    const map = new Map<string, HookFn[]>();
    for (const [filter, fn] of hooks ?? []) {
      if (typeof fn !== 'function') throw new InvalidArgumentError('each fwdHooks entry must be [nameOrPredicate, function]');
      for (const name of this.resolveNames(filter)) {
        const list = map.get(name) ?? [];
        list.push(fn);
        map.set(name, list);
      }
    }
    return new RunContext(map, cacheNames);
  }

  private async execute(input: Input, ctx: RunContext, opts: ForwardOptions): Promise<tf.Tensor> {
    checkModelInput(input);
    const prepared = await this.prepare(input);
    try {
      return tf.tidy(() => this.run(prepared, ctx, opts));
    } catch (err) {
      for (const t of new Set(ctx.cache.values())) t.dispose();
      throw err;
    } finally {
      this.release(prepared, input);
    }
  }

  /**
   * Plain forward pass, no hooks (no per-hook cost). Returns logits (model-specific shape, e.g.
   * `[batch, pos, dVocab]` for GPT-2) or, with `stopAtLayer`, the residual `[batch, pos, dModel]`.
   */
  async forward(input: Input, opts: ForwardOptions = {}): Promise<tf.Tensor> {
    checkRunOptions(opts);
    return this.execute(input, NO_HOOKS, opts);
  }

  /** Forward pass that keeps the activations selected by `namesFilter`. */
  async runWithCache(input: Input, opts: RunWithCacheOptions = {}): Promise<CacheRun> {
    checkRunOptions(opts);
    const names = new Set(this.resolveNames(opts.namesFilter));
    const ctx = this.contextFor(opts.fwdHooks, names);
    let output = await this.execute(input, ctx, opts);
    if ([...ctx.cache.values()].includes(output)) {
      const copy = output.clone();
      output = copy;
    }
    return { output, cache: new ActivationCache(ctx.cache, opts.device ?? 'gpu') };
  }

  /** Forward pass with temporary hooks (they apply to this call only). Returns the output. */
  async runWithHooks(input: Input, opts: RunWithHooksOptions): Promise<tf.Tensor> {
    checkRunOptions(opts);
    return this.execute(input, this.contextFor(opts.fwdHooks, new Set()), opts);
  }
}
