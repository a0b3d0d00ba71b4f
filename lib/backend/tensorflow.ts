/**
 * The `tensorflow` backend: libtensorflow through `@tensorflow/tfjs-node(-gpu)`'s binding. Either the binding
 * that `tfjs-lens setup tensorflow` built against a pip TensorFlow (it leaves `deps/tfjs-lens-tensorflow.json`),
 * or the one a normal `npm install @tensorflow/tfjs-node` downloaded (libtensorflow 2.9.1).
 *
 * `device: 'gpu'` (and the `'cuda'` shorthand) needs a CUDA build of TensorFlow and a visible NVIDIA GPU;
 * `device: 'cpu'` hides every GPU from TensorFlow. Both must be chosen before libtensorflow loads.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BackendUnavailableError } from '../errors.js';
import { MANIFEST, readManifest, type TensorflowManifest } from './tensorflow-setup/layout.js';
import { preloadLibraries } from './tensorflow-setup/preload.js';
import { registerKernelPatches } from './kernel-patches/register.js';
import type { TensorflowDevice } from './types.js';

/** The tfjs-node packages, GPU build first (a normal install of either works as before). */
export const TFJS_NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

const SETUP_HINT = 'run `npx tfjs-lens setup tensorflow` (builds tfjs-node against a pip TensorFlow, e.g. tensorflow-cpu==2.21.0); see docs/backends.md';

/** What the loaded tensorflow backend runs on. */
export interface TensorflowInfo {
  /** The tfjs-node package that provides the binding. */
  package: string;
  /** tfjs-node's version. */
  packageVersion: string;
  /** libtensorflow's own version (`TF_Version()`). */
  tensorflowVersion: string;
  /** Whether that libtensorflow is a CUDA build (from the setup's manifest; false for stock tfjs-node). */
  cuda: boolean;
  /** Where ops run: `'gpu'` when CUDA is built in, a GPU is visible and not hidden; else `'cpu'`. */
  device: TensorflowDevice;
  /** The setup's manifest, when `tfjs-lens setup tensorflow` built the binding. */
  manifest?: TensorflowManifest;
}

let loaded: TensorflowInfo | undefined;

/** Where a tfjs-node package is installed (resolved from tfjs-lens), or undefined. */
export function findTfjsNode(pkg: string): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}

/** Whether an NVIDIA GPU is visible to this process (driver loaded, devices not hidden by CUDA_VISIBLE_DEVICES). */
export function nvidiaGpuVisible(env: NodeJS.ProcessEnv = process.env): boolean {
  const hidden = env.CUDA_VISIBLE_DEVICES;
  if (hidden !== undefined && (hidden.trim() === '' || hidden.trim() === '-1')) return false;
  try {
    return readdirSync('/proc/driver/nvidia/gpus').length > 0;
  } catch {
    return existsSync('/dev/nvidia0');
  }
}

function manifestOf(pkgDir: string): TensorflowManifest | undefined {
  return readManifest(join(pkgDir, 'deps', MANIFEST));
}

/** The first tfjs-node package present, with its manifest (when set up by tfjs-lens). */
function pickPackage(): { pkg: string; dir: string; manifest?: TensorflowManifest } | undefined {
  for (const pkg of TFJS_NODE_PACKAGES) {
    const dir = findTfjsNode(pkg);
    if (dir) {
      const manifest = manifestOf(dir);
      return manifest ? { pkg, dir, manifest } : { pkg, dir };
    }
  }
  return undefined;
}

/**
 * Sets TensorFlow's environment before libtensorflow loads (quieter logs; device hiding). Its one start-up
 * notice (oneDNN) is printed unless `TF_ENABLE_ONEDNN_OPTS` is set before Node starts (docs/backends.md).
 */
function prepareEnvironment(device: TensorflowDevice | undefined): void {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';
  if (device === 'cpu') process.env.CUDA_VISIBLE_DEVICES = '-1';
}

/**
 * Activates `tensorflow`. Loading is once per process: a later call with another `device` raises.
 * @throws BackendUnavailableError when no tfjs-node is installed, its binding does not load, or `device: 'gpu'`
 *   is asked of a CPU-only TensorFlow or a machine without a visible NVIDIA GPU.
 */
export async function loadTensorflow(device?: TensorflowDevice): Promise<TensorflowInfo> {
  const name = device === 'gpu' ? 'cuda' : 'tensorflow';
  if (loaded) {
    if (device && device !== loaded.device) {
      throw new BackendUnavailableError(name, `libtensorflow is already loaded on the ${loaded.device.toUpperCase()} in this process`, 'the device is fixed when libtensorflow loads: choose it in the first setBackend call (or start a new process)');
    }
    if (!(await tf.setBackend('tensorflow'))) throw new BackendUnavailableError(name, 'initialisation failed', SETUP_HINT);
    return loaded;
  }
  const found = pickPackage();
  if (!found) throw new BackendUnavailableError(name, 'no @tensorflow/tfjs-node(-gpu) is installed', SETUP_HINT);
  const cuda = found.manifest?.cuda ?? found.pkg.endsWith('-gpu');
  if (device === 'gpu') {
    if (!cuda) throw new BackendUnavailableError(name, `the TensorFlow under ${found.pkg} (${found.manifest ? `TensorFlow ${found.manifest.tensorflowVersion}` : 'stock libtensorflow'}) is a CPU-only build`, 'set up a CUDA TensorFlow: pip install "tensorflow[and-cuda]==2.21.0", then npx tfjs-lens setup tensorflow --python $(which python3)');
    if (!nvidiaGpuVisible()) throw new BackendUnavailableError(name, 'no NVIDIA GPU is visible (no /proc/driver/nvidia/gpus entry, or CUDA_VISIBLE_DEVICES hides them)', 'run on a machine with an NVIDIA GPU and its driver, or use --backend tensorflow (CPU)');
  }
  prepareEnvironment(device);
  if (cuda && found.manifest?.cudaLibDirs.length && device !== 'cpu') preloadLibraries(found.manifest.cudaLibDirs);
  const capture = startCapture(found.manifest);
  try {
    await import(found.pkg);
    if (!(await tf.setBackend('tensorflow'))) throw new BackendUnavailableError(name, 'initialisation failed', SETUP_HINT);
    await tf.ready();
  } catch (err) {
    if (err instanceof BackendUnavailableError) throw err;
    const why = (err as Error).message.split('\n')[0];
    throw new BackendUnavailableError(name, `${found.pkg} is installed but its binding did not load (${why})`, SETUP_HINT);
  } finally {
    capture?.();
  }
  registerKernelPatches('tensorflow');
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
  const packageVersion = (JSON.parse(readFileSync(join(found.dir, 'package.json'), 'utf8')) as { version: string }).version;
  loaded = {
    package: found.pkg,
    packageVersion,
    tensorflowVersion: binding?.TF_Version ?? 'unknown',
    cuda,
    device: cuda && device !== 'cpu' && nvidiaGpuVisible() ? 'gpu' : 'cpu',
    ...(found.manifest ? { manifest: found.manifest } : {}),
  };
  return loaded;
}

/** libtensorflow's start-up notices (absl's pre-init banner, INFO lines and their continuations). */
export function isStartupNotice(line: string, minLogLevel: number): boolean {
  if (/^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/.test(line)) return true;
  if (/^To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.$/.test(line)) return true;
  const level = /^([IWE])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.]+:\d+\]/.exec(line)?.[1];
  return (level === 'I' && minLogLevel >= 1) || (level === 'W' && minLogLevel >= 2) || (level === 'E' && minLogLevel >= 3);
}

/**
 * Captures fd 2 while libtensorflow loads (the setup's stdio helper): its start-up lines are written natively,
 * before TF_CPP_MIN_LOG_LEVEL applies. Returns the function that restores fd 2 and re-emits every captured line
 * that is not a notice at or below the log level; undefined without the helper or with `TFJS_LENS_TF_LOGS=1`.
 */
function startCapture(manifest: TensorflowManifest | undefined): (() => void) | undefined {
  if (!manifest?.stdioHelper || !existsSync(manifest.stdioHelper) || process.env.TFJS_LENS_TF_LOGS === '1') return undefined;
  let helper: { redirect(path: string): number; restore(saved: number): void };
  try {
    helper = createRequire(import.meta.url)(manifest.stdioHelper) as typeof helper;
  } catch {
    return undefined;
  }
  const file = `${tmpdir()}/tfjs-lens-tf-stderr-${process.pid}-${Date.now()}.log`;
  const saved = helper.redirect(file);
  if (saved < 0) return undefined;
  return () => {
    helper.restore(saved);
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
      rmSync(file, { force: true });
    } catch {
      /* nothing captured */
    }
    const level = Number(process.env.TF_CPP_MIN_LOG_LEVEL ?? 0);
    const kept = text.split('\n').filter((l) => l.trim() && !isStartupNotice(l, level));
    if (kept.length) process.stderr.write(`${kept.join('\n')}\n`);
  };
}

/** The loaded tensorflow backend's description, or undefined before `loadTensorflow`. */
export function tensorflowInfo(): TensorflowInfo | undefined {
  return loaded;
}

/** One line describing a loaded tensorflow backend. */
export function describeTensorflow(info: TensorflowInfo): string {
  const origin = info.manifest ? `built by tfjs-lens setup from ${info.manifest.source.split(':')[0]}` : 'stock binding';
  return `${info.package} ${info.packageVersion} on libtensorflow ${info.tensorflowVersion} (${info.device.toUpperCase()}${info.cuda ? ', CUDA build' : ''}; ${origin})`;
}
