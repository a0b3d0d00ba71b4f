/**
 * `runBench`: the per-layer benchmark of one model on the active backend.
 *
 * 1. Whole forward (logits included, no hooks): `warmup` untimed then `iters` timed runs → ms and tokens/s.
 * 2. Cache modes: the same forward through `runWithCache` keeping `states` (the residual states h_0 … h_L:
 *    `blocks.0.hook_resid_pre` and every `hook_resid_post`, of the encoder and the decoder for Whisper — what Hugging
 *    Face returns with `output_hidden_states`), `resid` (every `hook_resid_pre/mid/mid_cross/post`) or `all` (every
 *    hook except the lazily computed per-head `attn.hook_result`), with the bytes kept and the slowdown over the
 *    plain forward.
 * 3. Per block, by replay: a cached forward captures h_0, the stack is then run block by block (untimed) and
 *    each selected block and its sub-blocks are run alone on that block's real input — one block's inputs alive at
 *    a time (`resid_mid`, `resid_mid_cross` are the earlier sub-blocks' outputs) —
 *    attention sub-block `resid_pre + attn(ln1(resid_pre))`, cross-attention (Whisper decoder)
 *    `resid_mid + cross_attn(ln_cross(resid_mid), encoder_out)`, MLP sub-block `x + mlp(ln2(x))` (x = resid_pre in
 *    parallel blocks; Gemma: `x + ln2_post(mlp(ln2(x)))`) — each
 *    call timed up to a sync (see `timing.ts`; the sync's own cost is measured and reported).
 * 4. Memory: backend high-water marks from `tf.profile` in separate untimed runs, and the process's peak RSS.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NO_HOOKS } from '../nn/hook-point.js';
import { TransformerBlock } from '../nn/components/block.js';
import { RotaryBlock } from '../nn/components/rotary-block.js';
import type { NamesFilter } from '../nn/hooked-root.js';
import { activeBackend } from '../backend/index.js';
import { InvalidArgumentError } from '../errors.js';
import { summarize, throughput, medianRatio, type Stats } from './stats.js';
import { BENCH_RESULT_SCHEMA, type BenchResult, type BlockPart, type CacheMode } from './schema.js';
import { makeWorkload, type BlockStack, type Workload } from './workload.js';
import { timeSync, timeAsync, syncOverheadSamples, peakBytesDuring, kernelTimerUseful, type TimedCall } from './timing.js';
import { hostInfo, versions, rssPeakBytes } from './host.js';
import type { BenchTarget } from './targets.js';

/** What to measure. */
export interface BenchSettings {
  batch: number;
  /** Token positions (GPT-2; Whisper decoder); ViT ignores it. */
  seq: number;
  /** Untimed runs before each measured series (default 1). */
  warmup?: number;
  /** Timed runs per series (default 5). */
  iters?: number;
  /** Cache modes measured besides the plain forward (`none` adds nothing). */
  cache?: readonly CacheMode[];
  /** Blocks to time (indices into each stack), `'all'` (default) or `'none'`. */
  layers?: 'all' | 'none' | readonly number[];
  /** Seed of the random inputs (default 0). */
  seed?: number;
  /** Measure backend memory high-water marks with `tf.profile` (default true; extra untimed runs). */
  memory?: boolean;
}

/** Options of `runBench`. */
export interface RunBenchOptions {
  /** Called before each timed or profiled call. */
  onProgress?: (done: number, total: number, label: string) => void;
  /** Device description for the result (default: the active backend's detail and the CPU). */
  device?: string;
}

/** Hook-name filter of a cache mode. */
export function cacheFilter(mode: CacheMode): NamesFilter | undefined {
  switch (mode) {
    case 'none':
      return () => false;
    case 'states':
      return (name) => /(^|\.)(blocks\.0\.hook_resid_pre|hook_resid_post)$/.test(name);
    case 'resid':
      return (name) => /(^|\.)hook_resid_(pre|mid|mid_cross|post)$/.test(name);
    case 'all':
      return (name) => !name.endsWith('.hook_result');
  }
}

/** The block indices selected in a stack of `n` blocks. */
function selectLayers(layers: BenchSettings['layers'], n: number, prefix: string): number[] {
  if (layers === undefined || layers === 'all') return Array.from({ length: n }, (_, i) => i);
  if (layers === 'none') return [];
  for (const i of layers) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new InvalidArgumentError(`--layers: block ${i} does not exist in ${prefix || 'the model'} (0..${n - 1})`);
  }
  return [...new Set(layers)].sort((a, b) => a - b);
}

interface Series {
  ms: number[];
  kernelMs: number[];
}

function seriesStats(s: Series): { ms: Stats; kernelMs: Stats | null } {
  return { ms: summarize(s.ms), kernelMs: s.kernelMs.length === s.ms.length ? summarize(s.kernelMs) : null };
}

/** Parallel-residual blocks (Pythia) have no `hook_resid_mid`: attention and MLP both read resid_pre. */
function hasResidMid(block: TransformerBlock | RotaryBlock): boolean {
  return !(block instanceof RotaryBlock && block.parallel);
}

/**
 * Replayable calls of one block on its input `residPre`: the whole block, the attention sub-block, the
 * cross-attention sub-block (Whisper decoder) and the MLP sub-block. The later sub-blocks' inputs (`resid_mid`,
 * `resid_mid_cross`) are the earlier sub-blocks' outputs, computed once here — the same ops the forward pass runs
 * — so a benchmark holds one block's inputs at a time. `dispose()` frees them.
 */
function blockCalls(block: TransformerBlock | RotaryBlock, stack: BlockStack, residPre: tf.Tensor): { calls: { part: 'block' | BlockPart; fn: () => tf.Tensor }[]; dispose(): void } {
  const attnFn = (): tf.Tensor => {
    // Rotary blocks: the cos/sin tables are computed inside (HF computes them once per forward, outside the layers).
    if (block instanceof RotaryBlock) return tf.add(residPre, block.attentionOut(residPre, stack.mask, NO_HOOKS));
    const x = block.ln1.forward(residPre, NO_HOOKS);
    return tf.add(residPre, block.attn.forward(x, x, stack.mask, NO_HOOKS));
  };
  const calls: { part: 'block' | BlockPart; fn: () => tf.Tensor }[] = [
    { part: 'block', fn: () => block.forward(residPre, stack.mask, NO_HOOKS, stack.crossInput) },
    { part: 'attn', fn: attnFn },
  ];
  // Parallel blocks (Pythia) have no resid_mid: the MLP reads resid_pre.
  const residMid = hasResidMid(block) ? tf.tidy(attnFn) : undefined;
  let residMidCross: tf.Tensor | undefined;
  if (block instanceof TransformerBlock && block.crossAttn && block.lnCross && stack.crossInput && residMid) {
    const crossAttn = block.crossAttn;
    const lnCross = block.lnCross;
    const crossInput = stack.crossInput;
    const crossFn = () => tf.add(residMid, crossAttn.forward(lnCross.forward(residMid, NO_HOOKS), crossInput, undefined, NO_HOOKS));
    calls.push({ part: 'cross_attn', fn: crossFn });
    residMidCross = tf.tidy(crossFn);
  }
  // Gemma's sandwich norm ln2_post follows the MLP.
  const mlpIn = residMidCross ?? residMid ?? residPre;
  const post = block instanceof RotaryBlock ? block.ln2Post : undefined;
  calls.push({
    part: 'mlp',
    fn: () => {
      const out = block.mlp.forward(block.ln2.forward(mlpIn, NO_HOOKS), NO_HOOKS);
      return tf.add(mlpIn, post ? post.forward(out, NO_HOOKS) : out);
    },
  });
  return { calls, dispose: () => tf.dispose([...(residMid ? [residMid] : []), ...(residMidCross ? [residMidCross] : [])]) };
}

function cacheBytes(run: { cache: { keys(): string[]; get(name: string): tf.Tensor } }): number {
  let bytes = 0;
  for (const key of run.cache.keys()) {
    const t = run.cache.get(key);
    bytes += t.size * (t.dtype === 'bool' ? 1 : 4);
  }
  return bytes;
}

/**
 * Benchmarks `target` on the active backend (see the module comment for what is measured and how).
 * Allocates nothing that outlives the call.
 */
export async function runBench(target: BenchTarget, settings: BenchSettings, opts: RunBenchOptions = {}): Promise<BenchResult> {
  const warmup = settings.warmup ?? 1;
  const iters = settings.iters ?? 5;
  if (!Number.isInteger(warmup) || warmup < 0) throw new InvalidArgumentError(`--warmup ${warmup} is not a non-negative integer`);
  if (!Number.isInteger(iters) || iters <= 0) throw new InvalidArgumentError(`--iters ${iters} is not a positive integer`);
  const cacheModes = [...new Set(settings.cache ?? [])].filter((m) => m !== 'none');
  const measureMemory = settings.memory ?? true;
  const seed = settings.seed ?? 0;
  const useKernelTimer = kernelTimerUseful();
  const wl: Workload = makeWorkload(target, { batch: settings.batch, seq: settings.seq, seed });
  try {
    const stacks = settings.layers === 'none' ? [] : wl.stacks();
    const selected = stacks.map((s) => selectLayers(settings.layers, s.blocks.length, s.prefix));
    const partsPerBlock = (s: BlockStack) => (s.crossInput ? 4 : 3);
    const perSeries = warmup + iters;
    const total = perSeries * (1 + cacheModes.length) + (measureMemory ? 1 + cacheModes.length : 0)
      + stacks.reduce((sum, s, k) => sum + (selected[k]!.length ? 1 + selected[k]!.length * partsPerBlock(s) * perSeries : 0), 0);
    let done = 0;
    const tick = (label: string) => opts.onProgress?.(done++, total, label);
    const tokensPerCall = wl.items * wl.tokensPerItem;

    // 1. Plain forward.
    const forwardMs: number[] = [];
    for (let i = 0; i < perSeries; i++) {
      tick('forward');
      const ms = await timeAsync(() => wl.forward(), (out) => out, (out) => out.dispose());
      if (i >= warmup) forwardMs.push(ms);
    }
    const forward = summarize(forwardMs);
    const probe = await wl.forward();
    const syncOverhead = summarize(await syncOverheadSamples(probe, Math.max(iters, 5)));
    probe.dispose();
    let peakBytes: number | null = null;
    if (measureMemory) {
      tick('memory: forward');
      peakBytes = await peakBytesDuring(async () => {
        (await wl.forward()).dispose();
      });
    }

    // 2. Cache modes.
    const cache: BenchResult['cache'] = [
      { mode: 'none', names: 0, bytes: 0, ms: forward, tokensPerSecond: throughput(forwardMs, tokensPerCall), slowdown: 1, peakBytes },
    ];
    for (const mode of cacheModes) {
      const filter = cacheFilter(mode)!;
      const names = wl.hookNames().filter(filter as (n: string) => boolean).length;
      const ms: number[] = [];
      let bytes = 0;
      for (let i = 0; i < perSeries; i++) {
        tick(`cache ${mode}`);
        const elapsed = await timeAsync(() => wl.runWithCache(filter), (run) => run.output, (run) => {
          bytes = cacheBytes(run);
          run.output.dispose();
          run.cache.dispose();
        });
        if (i >= warmup) ms.push(elapsed);
      }
      let modePeak: number | null = null;
      if (measureMemory) {
        tick(`memory: cache ${mode}`);
        modePeak = await peakBytesDuring(async () => {
          const run = await wl.runWithCache(filter);
          run.output.dispose();
          run.cache.dispose();
        });
      }
      const msStats = summarize(ms);
      cache.push({ mode, names, bytes, ms: msStats, tokensPerSecond: throughput(ms, tokensPerCall), slowdown: medianRatio(msStats, forward), peakBytes: modePeak });
    }

    /** Times one block and its sub-blocks on `residPre` (warmup + iters calls each). */
    const timeBlock = async (block: TransformerBlock | RotaryBlock, stack: BlockStack, residPre: tf.Tensor, name: string): Promise<BenchResult['blocks'][number]> => {
      const { calls, dispose } = blockCalls(block, stack, residPre);
      try {
        const series = new Map<string, Series>();
        for (const call of calls) {
          const s: Series = { ms: [], kernelMs: [] };
          for (let r = 0; r < perSeries; r++) {
            tick(`${name} ${call.part}`);
            const t: TimedCall = await timeSync(call.fn, useKernelTimer);
            if (r < warmup) continue;
            s.ms.push(t.ms);
            if (t.kernelMs !== undefined) s.kernelMs.push(t.kernelMs);
          }
          series.set(call.part, s);
        }
        const whole = seriesStats(series.get('block')!);
        return {
          name,
          tokens: stack.tokens,
          ms: whole.ms,
          kernelMs: whole.kernelMs,
          tokensPerSecond: throughput(series.get('block')!.ms, stack.tokens),
          parts: calls.filter((c) => c.part !== 'block').map((c) => {
            const st = seriesStats(series.get(c.part)!);
            return { part: c.part as BlockPart, ms: st.ms, kernelMs: st.kernelMs, tokensPerSecond: throughput(series.get(c.part)!.ms, stack.tokens) };
          }),
        };
      } finally {
        dispose();
      }
    };

    // 3. Per block, by replay: h_0 captured from a real forward pass, then the stack run block by block (untimed)
    //    up to the last selected block, each selected block timed on its real input. One block's input (and its
    //    sub-blocks' inputs) is alive at a time, not the whole stack's.
    const blocks: BenchResult['blocks'] = [];
    for (let k = 0; k < stacks.length; k++) {
      const stack = stacks[k]!;
      const indices = selected[k]!;
      if (!indices.length) continue;
      tick(`capture ${stack.prefix}blocks`);
      const captured = await wl.runWithCache([`${stack.prefix}blocks.0.hook_resid_pre`]);
      captured.output.dispose();
      let residPre = captured.cache.get(`${stack.prefix}blocks.0.hook_resid_pre`);
      try {
        for (let i = 0; i <= indices.at(-1)!; i++) {
          const block = stack.blocks[i]!;
          if (indices.includes(i)) blocks.push(await timeBlock(block, stack, residPre, `${stack.prefix}blocks.${i}`));
          const input = residPre;
          residPre = tf.tidy(() => block.forward(input, stack.mask, NO_HOOKS, stack.crossInput));
          if (i > 0) input.dispose(); // h_0 belongs to the captured cache
        }
      } finally {
        if (!residPre.isDisposed && residPre !== captured.cache.get(`${stack.prefix}blocks.0.hook_resid_pre`)) residPre.dispose();
        captured.cache.dispose();
      }
    }

    const backend = activeBackend();
    const host = hostInfo();
    return {
      schema: BENCH_RESULT_SCHEMA,
      tool: 'tfjs-lens',
      date: new Date().toISOString(),
      host,
      backend: tf.getBackend(),
      device: opts.device ?? `${backend?.detail ?? tf.getBackend()} on ${host.cpu}`,
      versions: versions(),
      model: { name: target.name, family: target.family, source: target.source, params: target.params, config: target.config },
      settings: { batch: settings.batch, seq: target.family === 'vit' ? wl.tokensPerItem : settings.seq, warmup, iters, dtype: 'float32', seed },
      tokensPerItem: wl.tokensPerItem,
      forward: { ms: forward, tokensPerSecond: throughput(forwardMs, tokensPerCall), itemsPerSecond: throughput(forwardMs, wl.items) },
      cache,
      blocks,
      memory: {
        weightsBytes: target.weightsBytes,
        peakBytes,
        peakActivationBytes: peakBytes === null ? null : peakBytes - target.weightsBytes,
        rssPeakBytes: rssPeakBytes(),
        rssBaseBytes: target.rssBeforeBytes,
      },
      timing: {
        method: 'replay: each block and sub-block run alone on its real input (h_0 from a forward pass, then the stack block by block), timed up to a 1-element read-back'
          + (useKernelTimer ? '; kernelMs from tf.time()' : ''),
        syncOverheadMs: syncOverhead,
      },
    };
  } finally {
    wl.dispose();
  }
}
