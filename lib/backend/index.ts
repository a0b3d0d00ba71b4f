/**
 * Backend selection. tfjs-lens runs on any tfjs backend; this module loads the requested one, or with
 * `'auto'` the fastest one present (cuda > tensorflow (GPU build first) > webgpu > wasm > cpu), and says which.
 *
 * - `wasm` (`@tensorflow/tfjs-backend-wasm`, SIMD) is the always-present default; kernels it lacks run
 *   per op on the CPU backend through `installCpuFallbacks` (see `wasm-fallback.ts`).
 * - `tensorflow` uses `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` when the user installed one
 *   (an optional peer: never a dependency, its install downloads libtensorflow).
 * - `webgpu` uses `@tensorflow/tfjs-backend-webgpu` on Dawn through the `webgpu` npm package.
 * - `cuda` is the first-party CUDA backend (see docs/backends.md for its status).
 *
 * The environment variable `TFJS_LENS_BACKEND` picks the backend when `setBackend()` gets no argument.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BackendUnavailableError, InvalidArgumentError } from '../errors.js';
import { loadWasm } from './wasm.js';
import { loadWebgpu } from './webgpu.js';
import { loadTensorflow } from './tensorflow.js';
import { loadCuda } from './cuda.js';
import { registerUnsortedSegmentSum } from './kernels/unsorted-segment-sum.js';

registerUnsortedSegmentSum('cpu');
quietCpuBackend();

/** tfjs-backend-cpu prints a 'use tfjs-node' banner on first use in Node; tfjs-lens chooses backends itself. */
function quietCpuBackend(): void {
  const cpu = tf.engine().registry.cpu as { firstUse?: boolean } | undefined;
  if (cpu) cpu.firstUse = false;
}

/** Names accepted by `setBackend`. */
export type BackendName = 'auto' | 'cuda' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** Options of `setBackend`. */
export interface BackendOptions {
  /** wasm: number of threads (default: all cores when threads are supported). */
  threads?: number;
  /** cuda: allow TF32 tensor-core matmuls (faster, ~1e-3 relative error). */
  tf32?: boolean;
  /** Print which backend was chosen (default true for 'auto'). */
  verbose?: boolean;
}

/** What `setBackend` chose. */
export interface ActiveBackend {
  /** The tfjs backend name now active (`tf.getBackend()`). */
  name: Exclude<BackendName, 'auto'>;
  /** One line on what runs it (package, device, fallbacks). */
  detail: string;
}

const ORDER: Exclude<BackendName, 'auto'>[] = ['cuda', 'tensorflow', 'webgpu', 'wasm', 'cpu'];
/** Every name `setBackend` accepts, 'auto' first. */
export const BACKEND_NAMES: readonly BackendName[] = ['auto', ...ORDER];
let active: ActiveBackend | undefined;

async function loadOne(name: Exclude<BackendName, 'auto'>, opts: BackendOptions): Promise<ActiveBackend> {
  switch (name) {
    case 'cpu':
      await tf.setBackend('cpu');
      await tf.ready();
      quietCpuBackend();
      return { name, detail: '@tensorflow/tfjs-backend-cpu (pure JS)' };
    case 'wasm':
      return { name, detail: await loadWasm(opts.threads) };
    case 'webgpu':
      return { name, detail: await loadWebgpu() };
    case 'tensorflow':
      return { name, detail: await loadTensorflow() };
    case 'cuda':
      return { name, detail: await loadCuda(opts) };
  }
}

/**
 * Selects the tfjs backend all models and lenses run on.
 * @param name backend name; default `process.env.TFJS_LENS_BACKEND` or `'auto'`.
 * @returns the backend now active and a one-line description.
 * @throws BackendUnavailableError when the requested backend is not installed or has no device.
 */
export async function setBackend(name?: BackendName | string, opts: BackendOptions = {}): Promise<ActiveBackend> {
  const requested = (name ?? process.env.TFJS_LENS_BACKEND ?? 'auto') as BackendName;
  if (!BACKEND_NAMES.includes(requested)) {
    throw new InvalidArgumentError(`unknown backend '${requested}'`, `choose one of ${BACKEND_NAMES.join(', ')}`);
  }
  if (requested !== 'auto') {
    active = await loadOne(requested, opts);
    return active;
  }
  const skipped: string[] = [];
  for (const candidate of ORDER) {
    try {
      active = await loadOne(candidate, opts);
      if (opts.verbose ?? true) process.stderr.write(`tfjs-lens: backend '${active.name}' (${active.detail}); skipped: ${skipped.join('; ') || 'none'}\n`);
      return active;
    } catch (err) {
      if (!(err instanceof BackendUnavailableError)) throw err;
      skipped.push(`${candidate}: ${err.message.split('\n')[0]}`);
    }
  }
  throw new BackendUnavailableError('auto', skipped.join('; '), 'reinstall tfjs-lens: the cpu backend should always be present');
}

/** The backend chosen by the last `setBackend`, or undefined when none was chosen yet. */
export function activeBackend(): ActiveBackend | undefined {
  return active;
}

/** Makes sure some backend is ready (the env var's choice, else wasm, else cpu); idempotent. */
export async function ensureBackend(): Promise<ActiveBackend> {
  if (active && tf.getBackend() === active.name) return active;
  const fromEnv = process.env.TFJS_LENS_BACKEND;
  if (fromEnv) return setBackend(fromEnv);
  try {
    return await setBackend('wasm');
  } catch (err) {
    if (!(err instanceof BackendUnavailableError)) throw err;
    return setBackend('cpu');
  }
}
