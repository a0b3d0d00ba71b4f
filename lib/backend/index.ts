/**
 * Backend selection. tfjs-lens runs on any tfjs backend; this module loads the requested one, or with
 * `'auto'` the fastest one present, and says which and why it skipped the others:
 * tensorflow on an NVIDIA GPU → webgpu on a hardware adapter → tensorflow on the CPU → wasm → cpu.
 *
 * - `wasm` (`@tensorflow/tfjs-backend-wasm`, SIMD) is the always-present default; kernels it lacks run
 *   per op on the CPU backend (`kernel-patches/cpu-bridge.ts`; every backend's patches: `kernel-patches/register.ts`).
 * - `tensorflow` is libtensorflow through `@tensorflow/tfjs-node(-gpu)`: `npx tfjs-lens setup tensorflow`
 *   builds it against a pip TensorFlow (see `tensorflow-setup/`); a normal tfjs-node install works too.
 * - `cuda` is shorthand for `tensorflow` with `device: 'gpu'`.
 * - `webgpu` uses `@tensorflow/tfjs-backend-webgpu` on Dawn through the `webgpu` npm package; `'auto'`
 *   never picks a software adapter (SwiftShader, llvmpipe), an explicit `'webgpu'` may.
 *
 * The environment variable `TFJS_LENS_BACKEND` picks the backend when `setBackend()` gets no argument.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BackendUnavailableError, InvalidArgumentError } from '../errors.js';
import { loadWasm } from './wasm.js';
import { loadWebgpu } from './webgpu.js';
import { describeTensorflow, loadTensorflow } from './tensorflow.js';
import { registerKernelPatches } from './kernel-patches/register.js';
import type { ActiveBackend, BackendName, BackendOptions, TensorflowDevice } from './types.js';

export type { ActiveBackend, BackendName, BackendOptions, TensorflowDevice } from './types.js';

registerKernelPatches('cpu');
quietCpuBackend();

/** tfjs-backend-cpu prints a 'use tfjs-node' banner on first use in Node; tfjs-lens chooses backends itself. */
function quietCpuBackend(): void {
  const cpu = tf.engine().registry.cpu as { firstUse?: boolean } | undefined;
  if (cpu) cpu.firstUse = false;
}

type Concrete = Exclude<BackendName, 'auto'>;

/** Every name `setBackend` accepts, 'auto' first. */
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'cuda', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/** The steps of `'auto'`, best first (`cuda` is tensorflow on a GPU; the tensorflow step follows TensorFlow's own device choice). */
const AUTO_ORDER: { name: Concrete; label: string }[] = [
  { name: 'cuda', label: 'tensorflow on GPU' },
  { name: 'webgpu', label: 'webgpu (hardware adapter)' },
  { name: 'tensorflow', label: 'tensorflow on CPU' },
  { name: 'wasm', label: 'wasm' },
  { name: 'cpu', label: 'cpu' },
];
const DEVICES: readonly TensorflowDevice[] = ['cpu', 'gpu'];
let active: ActiveBackend | undefined;

async function loadTf(device: TensorflowDevice | undefined): Promise<ActiveBackend> {
  const info = await loadTensorflow(device);
  const versions: Record<string, string> = { tensorflow: info.tensorflowVersion, [info.package.replace('@tensorflow/', '')]: info.packageVersion };
  return { name: 'tensorflow', device: info.device, detail: describeTensorflow(info), versions };
}

async function loadOne(name: Concrete, opts: BackendOptions, auto: boolean): Promise<ActiveBackend> {
  const versions = { 'tfjs-core': tf.version_core };
  switch (name) {
    case 'cpu':
      await tf.setBackend('cpu');
      await tf.ready();
      quietCpuBackend();
      return { name, device: 'cpu', versions, detail: '@tensorflow/tfjs-backend-cpu (pure JS)' };
    case 'wasm':
      return { name, device: 'wasm', versions, detail: await loadWasm(opts.threads) };
    case 'webgpu':
      return { name, device: 'gpu', versions, detail: await loadWebgpu({ allowSoftware: !auto }) };
    case 'tensorflow':
      return loadTf(opts.device);
    case 'cuda':
      if (opts.device === 'cpu') throw new InvalidArgumentError("backend 'cuda' with device 'cpu'", "use 'tensorflow' with device 'cpu', or drop the device option");
      return loadTf('gpu');
  }
}

/**
 * Selects the tfjs backend all models and lenses run on.
 * @param name backend name; default `process.env.TFJS_LENS_BACKEND` or `'auto'`.
 * @param opts `device` for tensorflow (`'cpu'`/`'gpu'`), `threads` for wasm, `verbose` for 'auto'.
 * @returns the backend now active, its device, native versions and a one-line description.
 * @throws BackendUnavailableError when the requested backend is not installed or has no device.
 */
export async function setBackend(name?: BackendName | string, opts: BackendOptions = {}): Promise<ActiveBackend> {
  const requested = (name ?? process.env.TFJS_LENS_BACKEND ?? 'auto') as BackendName;
  if (!BACKEND_NAMES.includes(requested)) {
    throw new InvalidArgumentError(`unknown backend '${requested}'`, `choose one of ${BACKEND_NAMES.join(', ')}`);
  }
  if (opts.device !== undefined && !DEVICES.includes(opts.device)) {
    throw new InvalidArgumentError(`unknown device '${String(opts.device)}'`, `choose one of ${DEVICES.join(', ')} (tensorflow backend only)`);
  }
  if (requested !== 'auto') {
    active = await loadOne(requested, opts, false);
    return active;
  }
  const skipped: string[] = [];
  for (const step of AUTO_ORDER) {
    try {
      active = await loadOne(step.name, opts, true);
      if (opts.verbose ?? true) process.stderr.write(`tfjs-lens: backend '${active.name}' (${active.detail}); skipped: ${skipped.join('; ') || 'none'}\n`);
      return active;
    } catch (err) {
      if (!(err instanceof BackendUnavailableError)) throw err;
      skipped.push(`${step.label}: ${err.message.split('\n')[0]!.replace(/^backend '[^']+' is not available: /, '')}`);
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
