/**
 * Where `tfjs-lens setup tensorflow` keeps what it builds, and the manifest it leaves beside the binding.
 *
 * The cache (`$TFJS_LENS_CACHE`, else `$XDG_CACHE_HOME/tfjs-lens`, else `~/.cache/tfjs-lens`) holds one folder
 * per TensorFlow build, `tensorflow/<version>-<cpu|cuda>/`, with `lib/` (libtensorflow_cc + framework, real files),
 * `bindings/tfjs-node-<v>/tfjs_binding.node` and `manifest.json`. tfjs-node's `deps/lib` links into it, so
 * re-running the setup after `npm ci` copies one file instead of rebuilding.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

/** The tfjs-lens cache folder. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TFJS_LENS_CACHE) return env.TFJS_LENS_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tfjs-lens');
}

/** The TensorFlow release this version of tfjs-lens is tested against (pip `tensorflow-cpu==…`). */
export const TESTED_TENSORFLOW = '2.21.0';

/** Oldest TensorFlow whose C API the tfjs-node 4.22 binding compiles against (its own pinned release). */
export const OLDEST_TENSORFLOW = '2.9.0';

/** The file names the binding links against (`-ltensorflow -ltensorflow_framework`) and their sonames. */
export const LIB_LINKS: Readonly<Record<string, 'cc' | 'framework'>> = {
  'libtensorflow.so': 'cc',
  'libtensorflow.so.2': 'cc',
  'libtensorflow_cc.so.2': 'cc',
  'libtensorflow_framework.so': 'framework',
  'libtensorflow_framework.so.2': 'framework',
};

/** The two libraries as a TensorFlow wheel names them (under `tensorflow/`). */
export const WHEEL_LIBS = { cc: 'libtensorflow_cc.so.2', framework: 'libtensorflow_framework.so.2' } as const;

/** What the setup recorded about the TensorFlow a binding was built against. */
export interface TensorflowManifest {
  /** TensorFlow release, e.g. `'2.21.0'`. */
  tensorflowVersion: string;
  /** Whether that TensorFlow was built with CUDA (then it runs ops on an NVIDIA GPU when one is visible). */
  cuda: boolean;
  /** Where it came from: `python:<site-packages>` or `wheel:<file>`. */
  source: string;
  /** Folders of the `nvidia-*` pip packages' CUDA libraries (preloaded before the binding; empty on CPU builds). */
  cudaLibDirs: string[];
  /** The tfjs-node package and version the binding was compiled from, and tfjs-lens's source patch level. */
  tfjsNode: { name: string; version: string; bindingPatch?: number };
  /** The addon that captures libtensorflow's start-up lines on fd 2 (stdio-helper.ts), when built. */
  stdioHelper?: string;
  /** When the binding was built (ISO time). */
  builtAt: string;
}

/** The folder of one TensorFlow build in the cache. */
export function buildDir(root: string, version: string, cuda: boolean): string {
  return join(root, 'tensorflow', `${version}-${cuda ? 'cuda' : 'cpu'}`);
}

/** Name of the manifest file, both in the cache folder and in tfjs-node's `deps/`. */
export const MANIFEST = 'tfjs-lens-tensorflow.json';

/** Reads a manifest, or undefined when absent or unreadable. */
export function readManifest(path: string): TensorflowManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as TensorflowManifest;
    return typeof m.tensorflowVersion === 'string' && typeof m.cuda === 'boolean' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Compares dotted versions numerically (`'2.10.0' > '2.9.1'`); non-numeric parts compare as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((s) => Number.parseInt(s, 10) || 0);
  const pb = b.split(/[.+-]/).map((s) => Number.parseInt(s, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
