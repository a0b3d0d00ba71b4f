/**
 * Finds the TensorFlow the setup builds against: an installed Python TensorFlow (`--python`), a wheel file
 * (`--wheel`), or — with neither — the default `python3`'s TensorFlow if it has one, else a wheel that pip
 * downloads into the cache (`tensorflow-cpu==2.21.0`, or `tensorflow==…` with `gpu`).
 */
import { existsSync, readdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BackendSetupError } from '../../errors.js';
import { commandExists, runCommand } from './exec.js';
import { inspectWheel, parseBuildInfo } from './wheel.js';
import { OLDEST_TENSORFLOW, WHEEL_LIBS, compareVersions } from './layout.js';

/** A TensorFlow found on this machine. */
export type TensorflowSource = PythonTensorflow | WheelTensorflow;

/** A TensorFlow installed for a Python interpreter. */
export interface PythonTensorflow {
  kind: 'python';
  python: string;
  version: string;
  cuda: boolean;
  cudaVersion?: string;
  /** The `tensorflow` package folder (holds libtensorflow_cc.so.2, libtensorflow_framework.so.2, include/). */
  packageDir: string;
  /** The `nvidia-*` packages' library folders beside it (CUDA builds). */
  cudaLibDirs: string[];
}

/** A TensorFlow wheel file. */
export interface WheelTensorflow {
  kind: 'wheel';
  wheel: string;
  version: string;
  cuda: boolean;
  cudaVersion?: string;
  cudaLibDirs: string[];
}

/**
 * Python that reports where `tensorflow` is installed without importing it (importing takes seconds and
 * prints start-up lines): the package folder, the distribution's version, build_info.py, nvidia-* lib folders.
 */
const PROBE = String.raw`
import json, os, sys, glob, importlib.util, importlib.metadata as md
out = {"python": sys.version.split()[0], "found": False}
spec = importlib.util.find_spec("tensorflow")
if spec is not None and spec.submodule_search_locations:
    d = list(spec.submodule_search_locations)[0]
    out.update(found=True, packageDir=d)
    for name in ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tf-nightly", "tf-nightly-cpu", "tensorflow-aarch64", "intel-tensorflow"):
        try:
            out.update(version=md.version(name), distribution=name)
            break
        except md.PackageNotFoundError:
            pass
    bi = os.path.join(d, "python", "platform", "build_info.py")
    out["buildInfo"] = open(bi).read() if os.path.exists(bi) else ""
    out["cudaLibDirs"] = sorted(glob.glob(os.path.join(os.path.dirname(d), "nvidia", "*", "lib")))
print(json.dumps(out))
`;

interface ProbeResult {
  python: string;
  found: boolean;
  packageDir?: string;
  version?: string;
  buildInfo?: string;
  cudaLibDirs?: string[];
}

/** Checks that a TensorFlow version can back the binding. */
export function checkVersion(version: string, where: string): void {
  if (!/^2\./.test(version) || compareVersions(version, OLDEST_TENSORFLOW) < 0) {
    throw new BackendSetupError('locate', `${where} has TensorFlow ${version}; the binding needs TensorFlow 2 at ${OLDEST_TENSORFLOW} or newer`, 'pip install tensorflow-cpu==2.21.0 (or pass --wheel with a 2.x wheel)');
  }
}

/** Asks `python` about its TensorFlow; undefined when that Python has none. */
export async function probePython(python: string): Promise<PythonTensorflow | undefined> {
  const r = await runCommand('locate', python, ['-c', PROBE], { timeoutMs: 60_000 });
  let probe: ProbeResult;
  try {
    probe = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as ProbeResult;
  } catch {
    throw new BackendSetupError('locate', `${python} did not answer the TensorFlow probe (${r.stdout.slice(0, 200)})`, 'pass --python with a Python 3 interpreter');
  }
  if (!probe.found || !probe.packageDir) return undefined;
  if (!probe.version) throw new BackendSetupError('locate', `${python} has a 'tensorflow' package at ${probe.packageDir} but no pip distribution for it`, 'reinstall it with pip (pip install tensorflow-cpu==2.21.0)');
  checkVersion(probe.version, python);
  for (const lib of Object.values(WHEEL_LIBS)) {
    if (!existsSync(join(probe.packageDir, lib))) {
      throw new BackendSetupError('locate', `${probe.packageDir} lacks ${lib} (not a Linux TensorFlow 2 pip install?)`, 'install a Linux tensorflow or tensorflow-cpu wheel with pip, or pass --wheel');
    }
  }
  const { cuda, cudaVersion } = parseBuildInfo(probe.buildInfo ?? '');
  return {
    kind: 'python',
    python,
    version: probe.version,
    cuda,
    ...(cudaVersion ? { cudaVersion } : {}),
    packageDir: probe.packageDir,
    cudaLibDirs: cuda ? (probe.cudaLibDirs ?? []) : [],
  };
}

/** Inspects a wheel file and checks it can back the binding. */
export async function fromWheel(wheel: string): Promise<WheelTensorflow> {
  if (!existsSync(wheel)) throw new BackendSetupError('locate', `no such wheel file: ${wheel}`, 'pip download --no-deps -d wheels tensorflow-cpu==2.21.0, then pass --wheel wheels/<file>.whl');
  const info = await inspectWheel(wheel);
  checkVersion(info.version, wheel);
  return { kind: 'wheel', wheel, version: info.version, cuda: info.cuda, ...(info.cudaVersion ? { cudaVersion: info.cudaVersion } : {}), cudaLibDirs: [] };
}

/** Downloads `tensorflow-cpu==version` (or `tensorflow==version` with `gpu`) with pip into `dir`; returns the wheel path. */
export async function downloadWheel(python: string, version: string, gpu: boolean, dir: string, log: (s: string) => void): Promise<string> {
  const requirement = `${gpu ? 'tensorflow' : 'tensorflow-cpu'}==${version}`;
  mkdirSync(dir, { recursive: true });
  const existing = findWheel(dir, gpu, version);
  if (existing) return existing;
  log(`downloading ${requirement} with pip into ${dir}`);
  await runCommand('download', python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '-d', dir, requirement], { timeoutMs: 30 * 60_000 });
  const wheel = findWheel(dir, gpu, version);
  if (!wheel) throw new BackendSetupError('download', `pip reported success but no ${requirement} wheel is in ${dir}`, 'pass --wheel with a wheel you downloaded');
  return wheel;
}

function findWheel(dir: string, gpu: boolean, version: string): string | undefined {
  const prefix = `${gpu ? 'tensorflow' : 'tensorflow_cpu'}-${version}-`;
  const name = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  return name ? join(dir, name) : undefined;
}

/** The Python interpreter to use when none was given: `python3`, else `python`. */
export function defaultPython(): string | undefined {
  return ['python3', 'python'].find((p) => commandExists(p));
}
