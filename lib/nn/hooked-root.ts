/**
 * `HookedRoot`: what every model (GPT-2, ViT, Whisper, BERT) shares — hook-name resolution,
 * `forward`, `runWithCache`, `runWithHooks`, and the one forward path they all run:
 * `prepare` (user input → tensors, possibly async: tokenising, decoding files) → `embedPrepared`
 * (→ h_0 and what the blocks read besides it: the attention mask, Whisper's encoder output) → the blocks
 * of `stack` → `head` (final norm and unembedding / classifier / MLM head). Every activation passes
 * through `ctx.apply(hookPoint, value)`, every block and block sub-module through `ctx.call(module, …)`
 * (overrides). `embed(input)` and `runBlocks(resid, { from, to })` expose the parts of that path.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UnknownHookError, InvalidArgumentError } from '../errors.js';
import { HookedModule } from './hooked-module.js';
import { HookPoint, RunContext, NO_HOOKS, type HookFn, type ModuleOverride, type OverridableModule } from './hook-point.js';
import { ActivationCache, readHostValues } from './activation-cache.js';
import { closeMatches, getActName, canonicalAlias } from './hook-names.js';
import { checkModelInput, checkNamesFilter, checkRunOptions } from './input-checks.js';
import type { AttentionMask } from './components/attention.js';
import { TransformerBlock } from './components/block.js';
import { RotaryBlock } from './components/rotary-block.js';
import type { LayerNorm } from './components/layer-norm.js';
import type { RmsNorm } from './components/rms-norm.js';
import type { LensNormFn } from './lens-model.js';

/** A hook name, a list of names, or a predicate over names. */
export type NamesFilter = string | readonly string[] | ((name: string) => boolean);

/** `[nameOrNamesOrPredicate, override]` pairs; names are module paths such as `blocks.3.mlp` or `blocks.3`. */
export type ModuleOverrides = readonly (readonly [NamesFilter, ModuleOverride])[];

/** Options shared by every forward pass. */
export interface ForwardOptions {
  /** Stop before block `stopAtLayer` and return the residual stream `[batch, pos, dModel]` there. */
  stopAtLayer?: number;
  /**
   * Sub-modules replaced for this run (nnsight's `.skip()` / override): `blocks.{i}` (the whole block),
   * `blocks.{i}.ln1`, `.attn`, `.ln2`, `.mlp` (Whisper decoder blocks also `.ln_cross`, `.cross_attn`;
   * Whisper names start with `decoder.` / `encoder.`). See `ModuleOverride`.
   */
  overrides?: ModuleOverrides;
}

/** What the blocks read besides the residual stream: the input's attention mask, an encoder output. */
export interface BlockInputs {
  /** Additive attention mask of the prepared input (causal and/or key padding); undefined: none. */
  mask?: AttentionMask;
  /** Encoder output `[batch, srcPos, dModel]` for blocks with cross-attention (Whisper decoder). */
  encoderOut?: tf.Tensor;
  /** Position ids `[batch, pos]` int32 that rotary blocks read (left padding: restart at each row's first real token). */
  positions?: tf.Tensor2D;
}

/** The embedding of a prepared input: h_0 and the block inputs. */
export interface Embedded {
  /** h_0 `[batch, pos, dModel]` (`blocks.0.hook_resid_pre` before its hooks). */
  resid: tf.Tensor;
  inputs: BlockInputs;
}

/** Result of `model.embed(input)`: owns its tensors until `dispose()`. */
export interface EmbeddedInput extends Embedded {
  dispose(): void;
}

/** A block of a model's stack: `residPre [batch, pos, dModel]` → `residPost`. */
export interface StackBlock extends OverridableModule {
  forward(residPre: tf.Tensor, mask: AttentionMask | undefined, ctx: RunContext, encoderOut?: tf.Tensor, positions?: tf.Tensor2D): tf.Tensor;
}

/** Options of `runBlocks`. */
export interface RunBlocksOptions {
  /** First block to run (default 0): the input is h_from = `blocks.{from}.hook_resid_pre`. */
  from?: number;
  /** Run blocks from … to−1 (default L) and return h_to. */
  to?: number;
  /** The attention mask / encoder output of the input (`model.embed(input).inputs`); default none. */
  inputs?: BlockInputs;
  /** Hooks of this call (only the hook points of blocks from … to−1 fire). */
  fwdHooks?: readonly (readonly [NamesFilter, HookFn])[];
  /** Module overrides of this call (see `ForwardOptions.overrides`). */
  overrides?: ModuleOverrides;
}

/** Module paths a run can override: blocks and the sub-modules a block runs through `ctx.call`. */
const OVERRIDABLE = /(?:^|\.)blocks\.\d+(?:\.(?:ln1|ln2|attn|mlp|ln_cross|cross_attn))?$/;

/** Checks `stopAtLayer` against the number of blocks; returns the layer to stop at (L when absent). */
export function checkStopAtLayer(stop: number | undefined, nLayers: number): number {
  if (stop === undefined) return nLayers;
  if (!Number.isInteger(stop) || stop < 0 || stop > nLayers) throw new InvalidArgumentError(`stopAtLayer ${stop} is outside 0..${nLayers}`, 'it counts the blocks of the lensed stack (Whisper: decoder blocks)');
  return stop;
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
  private modules?: Map<string, HookedModule>;
  private aliases?: Map<string, string>;

  /** Turns user input into tensors the forward pass reads. */
  protected abstract prepare(input: Input): Promise<Prepared> | Prepared;
  /** Frees what `prepare` allocated. */
  protected abstract release(prepared: Prepared, input: Input): void;
  /** Prepared input → h_0 and the block inputs (synchronous, inside `tf.tidy`). */
  protected abstract embedPrepared(prepared: Prepared, ctx: RunContext): Embedded;
  /** The blocks of the lensed stack, in order (GPT-2, ViT, BERT: `blocks`; Whisper: the decoder's). */
  protected abstract get stack(): readonly StackBlock[];
  /** h_L `[batch, pos, dModel]` → the model's output (final norm, unembedding / classifier / MLM head). */
  protected abstract head(resid: tf.Tensor, prepared: Prepared, ctx: RunContext): tf.Tensor;
  /** The final layer norm of the head (undefined: none, BERT). */
  protected abstract get finalNorm(): LayerNorm | RmsNorm | undefined;

  /**
   * The layer norm that reads residual state `layer` (0 … L) as a function with the input's own
   * statistics: the final norm at L, block `layer`'s ln1 (ln2 with `mlpInput`) of pre-LN blocks below L;
   * undefined for post-LN blocks (BERT) and models without a final norm. See `LensModel.lensNorm`.
   */
  lensNorm(layer: number, opts: { mlpInput?: boolean } = {}): LensNormFn | undefined {
    const L = this.stack.length;
    if (!Number.isInteger(layer) || layer < 0 || layer > L) throw new InvalidArgumentError(`lensNorm: layer ${layer} is outside 0..${L}`);
    const block = this.stack[layer];
    const ln = layer === L ? this.finalNorm : block instanceof TransformerBlock || block instanceof RotaryBlock ? (opts.mlpInput ? block.ln2 : block.ln1) : undefined;
    return ln && ((x) => tf.tidy(() => ln.forward(x, NO_HOOKS)));
  }

  /** The synchronous forward pass (runs inside `tf.tidy`): embed, blocks 0 … stop−1, head when stop = L. */
  protected run(prepared: Prepared, ctx: RunContext, opts: ForwardOptions): tf.Tensor {
    const L = this.stack.length;
    const stop = checkStopAtLayer(opts.stopAtLayer, L);
    const { resid: h0, inputs } = this.embedPrepared(prepared, ctx);
    let resid = h0;
    for (let b = 0; b < stop; b++) {
      const input = resid;
      resid = ctx.block(() => this.runBlock(b, input, inputs, ctx));
      if (b > 0 && resid !== input) ctx.release(input); // the previous block's output (h0 belongs to the embedding)
    }
    return stop < L ? resid : this.head(resid, prepared, ctx);
  }

  private runBlock(b: number, resid: tf.Tensor, inputs: BlockInputs, ctx: RunContext): tf.Tensor {
    const block = this.stack[b]!;
    return ctx.call(block, resid, () => block.forward(resid, inputs.mask, ctx, inputs.encoderOut, inputs.positions));
  }

  /** Name → hook point map, built once. */
  protected hookPointMap(): Map<string, HookPoint> {
    if (!this.points) {
      this.modules = new Map();
      this.points = this.collectHookPoints('', new Map(), this.modules);
    }
    return this.points;
  }

  /**
   * TransformerLens 3.x canonical names of this model → its hook names (`blocks.0.ln2.hook_in` →
   * `blocks.0.hook_resid_mid`, `blocks.0.attn.q.hook_out` → `blocks.0.attn.hook_q`, …), from each module's
   * `canonicalHooks()`, so that a name means the value it holds in this model's block layout.
   */
  hookAliases(): Map<string, string> {
    if (!this.aliases) {
      this.hookPointMap();
      this.aliases = new Map();
      for (const [path, module] of [['', this], ...this.modules!] as [string, HookedModule][]) {
        for (const [rel, point] of Object.entries(module.canonicalHooks())) if (point) this.aliases.set(path ? `${path}.${rel}` : rel, point.name);
      }
    }
    return this.aliases;
  }

  /** Module paths a run can override (`blocks.0`, `blocks.0.ln1`, `blocks.0.attn`, …), in forward order. */
  moduleNames(): string[] {
    this.hookPointMap();
    return [...this.modules!.keys()].filter((n) => OVERRIDABLE.test(n));
  }

  private resolveModuleNames(filter: NamesFilter): string[] {
    const all = this.moduleNames();
    if (typeof filter === 'function') return all.filter(filter);
    const names = typeof filter === 'string' ? [filter] : filter;
    for (const n of names) {
      if (!all.includes(n)) {
        const near = closeMatches(n, all);
        throw new InvalidArgumentError(`'${n}' is not a module a run can override`, near.length ? `did you mean ${near.map((s) => `'${s}'`).join(', ')}?` : 'list them with model.moduleNames()');
      }
    }
    return [...names];
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
    const aliases = this.hookAliases();
    return names.map((n) => {
      for (const candidate of [n, getActName(n), aliases.get(n), canonicalAlias(n)]) if (candidate && known.has(candidate)) return candidate;
      throw new UnknownHookError(n, closeMatches(getActName(n), all));
    });
  }

  private contextFor(hooks: readonly (readonly [NamesFilter, HookFn])[] | undefined, cacheNames: Set<string>, overrides?: ModuleOverrides): RunContext {
    const replaced = new Map<string, ModuleOverride>();
    for (const [filter, fn] of overrides ?? []) {
      if (typeof fn !== 'function') throw new InvalidArgumentError('each overrides entry must be [moduleNameOrPredicate, function]');
      for (const name of this.resolveModuleNames(filter)) {
        if (replaced.has(name)) throw new InvalidArgumentError(`module '${name}' is overridden twice in one run`);
        replaced.set(name, fn);
      }
    }
    const map = new Map<string, HookFn[]>();
    for (const [filter, fn] of hooks ?? []) {
      if (typeof fn !== 'function') throw new InvalidArgumentError('each fwdHooks entry must be [nameOrPredicate, function]');
      for (const name of this.resolveNames(filter)) {
        const list = map.get(name) ?? [];
        list.push(fn);
        map.set(name, list);
      }
    }
    return new RunContext(map, cacheNames, replaced);
  }

  private async execute(input: Input, ctx: RunContext, opts: ForwardOptions): Promise<tf.Tensor> {
    checkModelInput(input);
    checkStopAtLayer(opts.stopAtLayer, this.stack.length);
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
    return this.execute(input, opts.overrides?.length ? this.contextFor(undefined, new Set(), opts.overrides) : NO_HOOKS, opts);
  }

  /**
   * The embedding of `input` (TransformerLens `input_to_embed`): h_0 `[batch, pos, dModel]` and the block
   * inputs (the attention mask of the prepared input, Whisper's encoder output), for `runBlocks`. The
   * caller disposes the result (`dispose()`).
   */
  async embed(input: Input, opts: { fwdHooks?: readonly (readonly [NamesFilter, HookFn])[] } = {}): Promise<EmbeddedInput> {
    const ctx = opts.fwdHooks?.length ? this.contextFor(opts.fwdHooks, new Set()) : NO_HOOKS;
    const prepared = await this.prepare(input);
    try {
      // Cloned handles (no copy): the result owns every tensor, also a user's encoder output.
      const { resid, mask, encoderOut, positions } = tf.tidy(() => {
        const e = this.embedPrepared(prepared, ctx);
        return { resid: tf.clone(e.resid), mask: e.inputs.mask && { additive: tf.clone(e.inputs.mask.additive), hasEmptyRows: e.inputs.mask.hasEmptyRows }, encoderOut: e.inputs.encoderOut && tf.clone(e.inputs.encoderOut), positions: e.inputs.positions && tf.clone(e.inputs.positions) };
      });
      return { resid, inputs: { mask, encoderOut, positions }, dispose: () => tf.dispose([resid, ...(mask ? [mask.additive] : []), ...(encoderOut ? [encoderOut] : []), ...(positions ? [positions] : [])]) };
    } finally {
      this.release(prepared, input);
    }
  }

  /**
   * Runs blocks `from` … `to`−1 of the lensed stack on `resid` = h_from `[batch, pos, dModel]` and returns
   * h_to (TransformerLens `start_at_layer` / `stop_at_layer`); the same blocks, hooks and overrides as
   * `forward`. Synchronous; each block runs in its own `tf.tidy`. Pass the input's `inputs` from
   * `embed(input)` (attention mask; Whisper: encoder output). Returns a new tensor (caller disposes).
   */
  runBlocks(resid: tf.Tensor, opts: RunBlocksOptions = {}): tf.Tensor {
    const L = this.stack.length;
    const from = opts.from ?? 0;
    const to = opts.to ?? L;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || to > L) throw new InvalidArgumentError(`runBlocks: from ${from}, to ${to} must satisfy 0 ≤ from ≤ to ≤ ${L}`);
    if (resid.rank !== 3) throw new InvalidArgumentError(`runBlocks: resid must be [batch, pos, dModel], got [${resid.shape.join(',')}]`);
    const ctx = opts.fwdHooks?.length || opts.overrides?.length ? this.contextFor(opts.fwdHooks, new Set(), opts.overrides) : NO_HOOKS;
    const inputs = opts.inputs ?? {};
    let x = resid;
    try {
      for (let b = from; b < to; b++) {
        const input = x;
        x = tf.tidy(() => this.runBlock(b, input, inputs, ctx));
        if (input !== resid) input.dispose();
      }
    } catch (err) {
      if (x !== resid) x.dispose();
      throw err;
    }
    return x === resid ? tf.clone(resid) : x;
  }

  /** Forward pass that keeps the activations selected by `namesFilter`. */
  async runWithCache(input: Input, opts: RunWithCacheOptions = {}): Promise<CacheRun> {
    checkRunOptions(opts);
    const names = new Set(this.resolveNames(opts.namesFilter));
    const ctx = this.contextFor(opts.fwdHooks, names, opts.overrides);
    let output = await this.execute(input, ctx, opts);
    if ([...ctx.cache.values()].includes(output)) {
      const copy = output.clone();
      output = copy;
    }
    const where = opts.device ?? 'gpu';
    let hostValues: Awaited<ReturnType<typeof readHostValues>> | undefined;
    try {
      if (where === 'cpu') hostValues = await readHostValues(ctx.cache);
    } catch (err) {
      tf.dispose([output, ...new Set(ctx.cache.values())]);
      throw err;
    }
    return { output, cache: new ActivationCache(ctx.cache, where, this.hookNames(), this.hookAliases(), hostValues) };
  }

  /** Forward pass with temporary hooks (they apply to this call only). Returns the output. */
  async runWithHooks(input: Input, opts: RunWithHooksOptions): Promise<tf.Tensor> {
    checkRunOptions(opts);
    return this.execute(input, this.contextFor(opts.fwdHooks, new Set(), opts.overrides), opts);
  }
}
