/**
 * `setupTensorflow()` — what `npx tfjs-lens setup tensorflow` runs: makes the `tensorflow` backend work from a
 * TensorFlow that pip provides, without tfjs-node's own libtensorflow 2.9.1 download.
 *
 * 1. locate: `--python` (its installed TensorFlow), `--wheel FILE`, or by default `python3`'s TensorFlow, else
 *    `pip download tensorflow-cpu==2.21.0` (`tensorflow==…` with `gpu`) into the cache;
 * 2. stage: libtensorflow_cc/framework (real files) and the C headers into the cache;
 * 3. npm: `@tensorflow/tfjs-node` (`-gpu` for a CUDA TensorFlow) at tfjs-core's version, `--ignore-scripts`;
 * 4. link its `deps/` to the staged TensorFlow, add list(string) attributes to its source (binding-patch.ts:
 *    fused kernels), compile the binding with node-gyp (or reuse a cached one);
 * 5. smoke test in a child process: the backend loads and agrees with the cpu backend.
 * Idempotent: a second run reuses everything and only re-checks. Each step prints one progress line.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { BackendSetupError } from '../../errors.js';
import { buildDir, cacheRoot, MANIFEST, TESTED_TENSORFLOW, type TensorflowManifest } from './layout.js';
import { defaultPython, downloadWheel, fromWheel, probePython, type TensorflowSource } from './locate.js';
import { buildBinding, checkToolchain, gypContext, hostProject, installBinding, installTfjsNode, layOutDeps, stageTensorflow } from './build.js';
import { buildStdioHelper } from './stdio-helper.js';
import { BINDING_PATCH_LEVEL, patchBindingSource } from './binding-patch.js';
import type { SmokeResult } from './smoke.js';

export { TESTED_TENSORFLOW, cacheRoot } from './layout.js';

/** Options of `setupTensorflow`. */
export interface TensorflowSetupOptions {
  /** Use this Python's installed TensorFlow (its `tensorflow` package folder holds the libraries). */
  python?: string;
  /** Use this TensorFlow wheel file (no Python needed except for node-gyp). */
  wheel?: string;
  /** Version to download when neither is given and `python3` has no TensorFlow (default `2.21.0`). */
  version?: string;
  /** Download `tensorflow` (CUDA on Linux) instead of `tensorflow-cpu`. */
  gpu?: boolean;
  /** Cache folder (default `$TFJS_LENS_CACHE`, `$XDG_CACHE_HOME/tfjs-lens` or `~/.cache/tfjs-lens`). */
  cacheDir?: string;
  /** Project whose node_modules receives tfjs-node (default: the one tfjs-lens is installed in). */
  projectDir?: string;
  /** Rebuild the binding even when a cached one matches. */
  force?: boolean;
  /** Skip the smoke test (not recommended). */
  skipSmokeTest?: boolean;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

/** What `setupTensorflow` did. */
export interface TensorflowSetupResult {
  manifest: TensorflowManifest;
  /** The tfjs-node package folder. */
  packageDir: string;
  /** The binding tfjs-node loads. */
  binding: string;
  /** Whether the binding was compiled in this run (false: reused from the cache). */
  built: boolean;
  /** The smoke test's report (undefined when skipped). */
  smoke?: SmokeResult;
}

async function locate(opts: TensorflowSetupOptions, log: (s: string) => void): Promise<TensorflowSource> {
  if (opts.wheel && opts.python) throw new BackendSetupError('locate', 'give --python or --wheel, not both', 'one TensorFlow is set up at a time');
  if (opts.wheel) return fromWheel(opts.wheel);
  if (opts.python) {
    const found = await probePython(opts.python);
    if (!found) throw new BackendSetupError('locate', `${opts.python} has no TensorFlow installed`, `${opts.python} -m pip install tensorflow-cpu==${TESTED_TENSORFLOW} (or tensorflow[and-cuda] for NVIDIA GPUs), or omit --python to download a wheel`);
    return found;
  }
  const python = defaultPython();
  if (!python) throw new BackendSetupError('locate', 'no Python (python3) was found to provide TensorFlow', `install Python 3 with pip, or download a wheel elsewhere and pass --wheel tensorflow_cpu-${TESTED_TENSORFLOW}-….whl`);
  const found = await probePython(python);
  if (found && (!opts.gpu || found.cuda)) {
    log(`using the TensorFlow ${found.version} installed for ${python} (${found.packageDir})`);
    return found;
  }
  const wheel = await downloadWheel(python, opts.version ?? TESTED_TENSORFLOW, !!opts.gpu, join(opts.cacheDir ?? cacheRoot(), 'wheels'), log);
  return fromWheel(wheel);
}

function describe(source: TensorflowSource): string {
  const where = source.kind === 'python' ? `${source.python} (${source.packageDir})` : source.wheel;
  return `TensorFlow ${source.version} (${source.cuda ? `CUDA ${source.cudaVersion ?? ''}`.trim() : 'CPU'}) from ${where}`;
}

/** Runs the smoke test in a child process (a bad binding may crash its process). */
export function runSmokeTest(device?: 'cpu' | 'gpu'): SmokeResult {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'smoke.js');
  const r = spawnSync(process.execPath, [script, ...(device ? [device] : [])], { encoding: 'utf8', timeout: 5 * 60_000 });
  const line = r.stdout?.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as SmokeResult;
  } catch {
    const why = r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    return { ok: false, detail: '', device: '', versions: {}, maxAbsDiff: NaN, error: `the smoke test crashed (${why}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-5).join(' | ')}` };
  }
}

/**
 * Builds tfjs-node's binding against a pip TensorFlow and checks it; see the module comment for the steps.
 * @throws BackendSetupError naming the step that failed (no Python or TensorFlow, unsupported version or
 *   platform, no compiler, npm or node-gyp failure, failed smoke test).
 */
export async function setupTensorflow(opts: TensorflowSetupOptions = {}): Promise<TensorflowSetupResult> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`tfjs-lens setup: ${s}\n`));
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) {
    throw new BackendSetupError('platform', `${process.platform}/${process.arch} is not supported by this setup (Linux x64/arm64 only)`, 'on other systems npm install @tensorflow/tfjs-node (its own libtensorflow download) where it is offered');
  }
  log('[1/5] locating TensorFlow');
  const source = await locate(opts, log);
  log(`      ${describe(source)}${source.version === TESTED_TENSORFLOW ? '' : ` — tested with ${TESTED_TENSORFLOW} only`}`);
  if (source.cuda && source.kind === 'wheel') log('      note: a CUDA wheel alone lacks the CUDA libraries; install tensorflow[and-cuda] in a Python and pass --python to use them');

  const staged = buildDir(opts.cacheDir ?? cacheRoot(), source.version, source.cuda);
  log(`[2/5] staging libtensorflow and its C headers in ${staged}`);
  await stageTensorflow(source, staged);

  const host = hostProject();
  const project = opts.projectDir ?? host.dir;
  const tfjsVersion = host.tfjsVersion;
  const pkgName = source.cuda ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  log(`[3/5] ${pkgName}@${tfjsVersion} in ${join(project, 'node_modules')}`);
  const packageDir = await installTfjsNode(project, pkgName, tfjsVersion, log);

  layOutDeps(packageDir, staged);
  const cachedBinding = join(staged, 'bindings', `${pkgName.replace('@tensorflow/', '')}-${tfjsVersion}-p${BINDING_PATCH_LEVEL}`, 'tfjs_binding.node');
  const helperDir = join(staged, 'bindings');
  const built = !existsSync(cachedBinding) || !existsSync(join(helperDir, 'tfjs_lens_stdio.node')) || !!opts.force;
  if (built) {
    log('[4/5] building the binding (node-gyp)');
    const python = source.kind === 'python' ? source.python : defaultPython();
    checkToolchain(python);
    const gyp = await gypContext(python);
    patchBindingSource(packageDir);
    const fresh = await buildBinding(packageDir, gyp, log);
    mkdirSync(dirname(cachedBinding), { recursive: true });
    copyFileSync(fresh, cachedBinding);
    if (opts.force) rmSync(join(helperDir, 'tfjs_lens_stdio.node'), { force: true });
    await buildStdioHelper(helperDir, gyp.nodedirArgs, gyp.gyp, gyp.env);
  } else {
    log(`[4/5] reusing the binding built earlier (${cachedBinding}; --force rebuilds)`);
  }
  const manifest: TensorflowManifest = {
    tensorflowVersion: source.version,
    cuda: source.cuda,
    source: source.kind === 'python' ? `python:${source.packageDir}` : `wheel:${source.wheel}`,
    cudaLibDirs: source.cudaLibDirs,
    tfjsNode: { name: pkgName, version: tfjsVersion, bindingPatch: BINDING_PATCH_LEVEL },
    stdioHelper: join(helperDir, 'tfjs_lens_stdio.node'),
    builtAt: new Date().toISOString(),
  };
  const binding = installBinding(packageDir, cachedBinding, manifest);
  writeFileSync(join(staged, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);

  if (opts.skipSmokeTest) return { manifest, packageDir, binding, built };
  log('[5/5] smoke test: the tensorflow backend against the cpu backend');
  const smoke = runSmokeTest();
  if (!smoke.ok) {
    throw new BackendSetupError('smoke-test', smoke.error ?? `the tensorflow backend disagrees with the cpu backend (max |diff| ${smoke.maxAbsDiff})`, 're-run with --force to rebuild; if it persists, report it with the output above');
  }
  if (smoke.versions.tensorflow && smoke.versions.tensorflow !== source.version) {
    throw new BackendSetupError('smoke-test', `the binding loaded libtensorflow ${smoke.versions.tensorflow}, not ${source.version}`, 'another libtensorflow is on the loader path (LD_LIBRARY_PATH?); remove it or re-run with --force');
  }
  log(`      ok: ${smoke.detail}`);
  return { manifest, packageDir, binding, built, smoke };
}
