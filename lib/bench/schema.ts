/**
 * The JSON schema of benchmark results, shared by `tfjs-lens bench`, `bench/run.ts` and the PyTorch
 * reference scripts in `bench/reference/` (which write the same fields), validated with zod on load.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';

/** Schema id of one result. */
export const BENCH_RESULT_SCHEMA = 'tfjs-lens-bench/1';
/** Schema id of a file holding several results (one per backend or model). */
export const BENCH_SUITE_SCHEMA = 'tfjs-lens-bench-suite/1';

const stats = z.object({
  n: z.number().int().positive(),
  min: z.number(),
  median: z.number(),
  max: z.number(),
  mean: z.number(),
});

/** Names of the cache modes. */
export const CACHE_MODES = ['none', 'states', 'resid', 'all'] as const;
/** What `--cache` selects. */
export type CacheMode = (typeof CACHE_MODES)[number];

/** Sub-blocks whose time is measured separately. */
export const BLOCK_PARTS = ['attn', 'cross_attn', 'mlp'] as const;
/** A sub-block name. */
export type BlockPart = (typeof BLOCK_PARTS)[number];

const timedPart = z.object({
  part: z.enum(BLOCK_PARTS),
  ms: stats,
  /** Device kernel time from `tf.time()` / CUDA events where the backend reports it. */
  kernelMs: stats.nullable(),
  tokensPerSecond: stats,
});

/** One benchmark result (one model, one backend, one input shape). */
export const benchResultSchema = z.object({
  schema: z.literal(BENCH_RESULT_SCHEMA),
  /** Which implementation measured it. */
  tool: z.enum(['tfjs-lens', 'pytorch']),
  /** ISO 8601 time of the run. */
  date: z.string(),
  host: z.object({
    hostname: z.string(),
    platform: z.string(),
    arch: z.string(),
    cpu: z.string(),
    cores: z.number().int().positive(),
    memoryBytes: z.number().nonnegative(),
  }),
  /** Backend name: `wasm`, `cpu`, `webgpu`, `tensorflow`, `cuda` (PyTorch: `cuda` or `cpu`). */
  backend: z.string(),
  /** What ran it, in words (backend package and settings, GPU name). */
  device: z.string(),
  /** Package and runtime versions (`node`, `@tensorflow/tfjs-core`, `torch`, `transformers`, …). */
  versions: z.record(z.string(), z.string()),
  model: z.object({
    /** `gpt2`, `gpt2-xl`, `vit-l16`, `whisper-large`, … or the checkpoint directory. */
    name: z.string(),
    family: z.enum(['gpt2', 'vit', 'whisper', 'llama', 'gpt_neox', 'gemma']),
    source: z.enum(['random', 'checkpoint']),
    params: z.number().int().nonnegative(),
    /** The Hugging Face `config.json` the model was built from. */
    config: z.record(z.string(), z.unknown()),
  }),
  settings: z.object({
    batch: z.number().int().positive(),
    /** Token positions (GPT-2; Whisper decoder). ViT and the Whisper encoder have fixed lengths. */
    seq: z.number().int().positive(),
    warmup: z.number().int().nonnegative(),
    iters: z.number().int().positive(),
    dtype: z.literal('float32'),
    seed: z.number().int(),
  }),
  /** Positions processed by the blocks per input item (GPT-2: seq; ViT: patches + 1; Whisper: 1500 + seq). */
  tokensPerItem: z.number().int().positive(),
  /** Whole forward pass (logits included), plain: no hooks, no cache. */
  forward: z.object({ ms: stats, tokensPerSecond: stats, itemsPerSecond: stats }),
  /** Forward passes that cache activations; `none` is the plain forward again (the baseline). */
  cache: z.array(
    z.object({
      mode: z.enum(CACHE_MODES),
      /** Hook names kept. */
      names: z.number().int().nonnegative(),
      /** Bytes held by the cache after the run. */
      bytes: z.number().nonnegative(),
      ms: stats,
      tokensPerSecond: stats,
      /** Median time over the plain forward's median time. */
      slowdown: z.number(),
      /** Allocator high-water mark during the run (weights included), when measured. */
      peakBytes: z.number().nonnegative().nullable(),
    }),
  ),
  /** Per-block times (`blocks.17`, `encoder.blocks.3`, `decoder.blocks.0`) and their sub-blocks. */
  blocks: z.array(
    z.object({
      name: z.string(),
      /** Positions the block processes per call (batch × its sequence length). */
      tokens: z.number().int().positive(),
      ms: stats,
      kernelMs: stats.nullable(),
      tokensPerSecond: stats,
      parts: z.array(timedPart),
    }),
  ),
  memory: z.object({
    /** Bytes of the weights on the backend (tfjs: `tf.memory().numBytes`; PyTorch: allocated after build). */
    weightsBytes: z.number().nonnegative().nullable(),
    /** High-water mark of backend memory during a plain forward (weights included). */
    peakBytes: z.number().nonnegative().nullable(),
    /** `peakBytes − weightsBytes`. */
    peakActivationBytes: z.number().nullable(),
    /** Peak resident set size of the process (OS `maxrss`). */
    rssPeakBytes: z.number().nonnegative().nullable(),
    /**
     * Resident set size of the process just before the weights were made: the runtime and its libraries (Node +
     * libtensorflow, Python + torch). `rssPeakBytes − rssBaseBytes` is what the model and its runs added.
     * Absent in files written before it was recorded.
     */
    rssBaseBytes: z.number().nonnegative().nullable().optional(),
  }),
  timing: z.object({
    /** How per-block times were taken, in words. */
    method: z.string(),
    /** Cost of one synchronisation (the wall-clock clock's floor per timed call), when measured. */
    syncOverheadMs: stats.nullable(),
  }),
});

/** One benchmark result. */
export type BenchResult = z.infer<typeof benchResultSchema>;

/** Several results written together (`bench/run.ts`, the PyTorch reference). */
export const benchSuiteSchema = z.object({
  schema: z.literal(BENCH_SUITE_SCHEMA),
  date: z.string(),
  /** Free-form note (what was compared, on what). */
  title: z.string(),
  runs: z.array(benchResultSchema),
});

/** A results file with several runs. */
export type BenchSuite = z.infer<typeof benchSuiteSchema>;

/** Validates a parsed JSON value as a result or a suite; returns its runs. */
export function parseBenchRuns(json: unknown, source = '<json>'): BenchResult[] {
  const schemaId = (json as { schema?: unknown } | null)?.schema;
  const parsed = schemaId === BENCH_SUITE_SCHEMA ? benchSuiteSchema.safeParse(json) : benchResultSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidInputError(source, `not a tfjs-lens benchmark result (${problems})`, `expected schema '${BENCH_RESULT_SCHEMA}' or '${BENCH_SUITE_SCHEMA}'`);
  }
  return 'runs' in parsed.data ? parsed.data.runs : [parsed.data];
}

/** Reads and validates a results file (one result or a suite). */
export function readBenchRuns(path: string): BenchResult[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidInputError(path, `cannot read: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(path, `not JSON: ${(err as Error).message}`);
  }
  return parseBenchRuns(json, path);
}
