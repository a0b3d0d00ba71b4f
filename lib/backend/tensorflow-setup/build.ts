/**
 * The build steps of `tfjs-lens setup tensorflow`: stage TensorFlow's libraries and C headers in the cache,
 * install `@tensorflow/tfjs-node` from the npm registry without its download script, point its `deps/` at the
 * staged TensorFlow and compile its binding with node-gyp.
 */
import { copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, cpSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BackendSetupError } from '../../errors.js';
import { commandExists, runCommand } from './exec.js';
import { extractFromWheel } from './wheel.js';
import { LIB_LINKS, MANIFEST, WHEEL_LIBS, type TensorflowManifest } from './layout.js';
import type { TensorflowSource } from './locate.js';

/** Header folders (under `include/`) that the binding's `#include`s reach: the C API and the tstring/status bits. */
export const HEADER_TREES = ['tensorflow/c/', 'tensorflow/core/platform/', 'tsl/', 'xla/tsl/'];

/** Hard-links `from` to `to` (same file system), else copies it; replaces `to`. */
function linkOrCopy(from: string, to: string): void {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** Puts libtensorflow_cc/framework (real files) and the C headers into `dir/lib` and `dir/include`. */
export async function stageTensorflow(source: TensorflowSource, dir: string): Promise<void> {
  const lib = join(dir, 'lib');
  const include = join(dir, 'include');
  mkdirSync(lib, { recursive: true });
  const done = Object.values(WHEEL_LIBS).every((f) => existsSync(join(lib, f))) && existsSync(join(include, 'tensorflow', 'c', 'c_api.h'));
  if (done) return;
  rmSync(include, { recursive: true, force: true });
  if (source.kind === 'python') {
    for (const f of Object.values(WHEEL_LIBS)) linkOrCopy(join(source.packageDir, f), join(lib, f));
    for (const tree of HEADER_TREES) {
      const from = join(source.packageDir, 'include', tree);
      if (existsSync(from)) cpSync(from, join(include, tree), { recursive: true });
    }
  } else {
    const libs = new Set(Object.values(WHEEL_LIBS).map((f) => `tensorflow/${f}`));
    await extractFromWheel(source.wheel, lib, 'tensorflow/', (name) => libs.has(name));
    await extractFromWheel(source.wheel, include, 'tensorflow/include/', (name) => HEADER_TREES.some((t) => name.startsWith(`tensorflow/include/${t}`)));
  }
  if (!existsSync(join(include, 'tensorflow', 'c', 'c_api.h'))) {
    throw new BackendSetupError('stage', `TensorFlow's C headers (include/tensorflow/c/c_api.h) were not found in ${source.kind === 'python' ? source.packageDir : source.wheel}`, 'use a TensorFlow 2 pip package or wheel for Linux; they ship the C headers');
  }
}

/** The project whose node_modules holds tfjs-lens's own `@tensorflow/tfjs-core`, and that version. */
export function hostProject(): { dir: string; tfjsVersion: string } {
  const require = createRequire(import.meta.url);
  const corePkg = require.resolve('@tensorflow/tfjs-core/package.json');
  const version = (JSON.parse(readFileSync(corePkg, 'utf8')) as { version: string }).version;
  return { dir: dirname(dirname(dirname(dirname(corePkg)))), tfjsVersion: version };
}

/** Folder of an installed package under `project/node_modules`, or undefined. */
export function installedPackage(project: string, name: string, version: string): string | undefined {
  const dir = join(project, 'node_modules', name);
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
    return pkg.version === version ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Installs `name@version` into `project` from the npm registry without running install scripts (no download). */
export async function installTfjsNode(project: string, name: string, version: string, log: (s: string) => void): Promise<string> {
  const have = installedPackage(project, name, version);
  if (have) return have;
  log(`installing ${name}@${version} into ${project} (npm, --ignore-scripts: no libtensorflow download)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  await runCommand('npm-install', npm, ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', `${name}@${version}`], { cwd: project, timeoutMs: 10 * 60_000 });
  const dir = installedPackage(project, name, version);
  if (!dir) throw new BackendSetupError('npm-install', `npm finished but ${name}@${version} is not in ${join(project, 'node_modules')}`, 'run the npm install yourself and look at its output');
  return dir;
}

/** The `lib/napi-vN` folder tfjs-node loads its binding from on this Node (highest of its napi_versions we support). */
export function bindingFolder(pkgDir: string): string {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { binary?: { napi_versions?: number[] } };
  const runtime = Number(process.versions.napi ?? 3);
  const usable = (pkg.binary?.napi_versions ?? [3]).filter((v) => v <= runtime);
  if (!usable.length) throw new BackendSetupError('build', `this Node supports N-API ${runtime}, older than every version tfjs-node lists`, 'use Node 20 or newer');
  return join(pkgDir, 'lib', `napi-v${Math.max(...usable)}`);
}

function replaceLink(target: string, path: string): void {
  if (existsSync(path) || isLink(path)) rmSync(path, { recursive: true, force: true });
  symlinkSync(target, path);
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Points `pkgDir/deps/{lib,include}` at the staged TensorFlow under every name the binding links against. */
export function layOutDeps(pkgDir: string, staged: string): void {
  const deps = join(pkgDir, 'deps');
  const lib = join(deps, 'lib');
  mkdirSync(lib, { recursive: true });
  replaceLink(join(staged, 'include'), join(deps, 'include'));
  for (const [name, which] of Object.entries(LIB_LINKS)) replaceLink(join(staged, 'lib', WHEEL_LIBS[which]), join(lib, name));
}

/** Checks the tools node-gyp needs: a C++ compiler, make and Python 3. */
export function checkToolchain(python: string | undefined): void {
  const cxx = process.env.CXX ?? 'c++';
  if (!commandExists(cxx)) throw new BackendSetupError('toolchain', `no C++ compiler (${cxx}) on PATH`, 'install one: apt-get install g++ make (Debian/Ubuntu), xcode-select --install (macOS)');
  if (!commandExists('make')) throw new BackendSetupError('toolchain', 'no make on PATH', 'apt-get install make');
  if (!python) throw new BackendSetupError('toolchain', 'node-gyp needs Python 3 and none was found', 'install python3 or pass --python');
}

/** npm's own node-gyp (bundled with npm), or undefined. */
function bundledNodeGyp(): string | undefined {
  const candidates: string[] = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(dirname(process.env.npm_execpath)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const npmCli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  candidates.push(join(npmCli, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    const npmBin = realpathSync(join(dirname(process.execPath), 'npm'));
    candidates.push(join(dirname(dirname(npmBin)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  } catch {
    /* npm not beside node */
  }
  return candidates.find((c) => existsSync(c));
}

/** npm's configured `nodedir` (Node headers on disk), so that node-gyp does not download them. */
async function npmNodedir(): Promise<string | undefined> {
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = await runCommand('build', npm, ['config', 'get', 'nodedir'], { timeoutMs: 60_000 });
    const v = r.stdout.trim();
    return v && v !== 'undefined' && v !== 'null' && existsSync(join(v, 'include', 'node', 'node_api.h')) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** How node-gyp is run here: npm's own copy (else npx), npm's `nodedir`, and the Python it should use. */
export interface GypContext {
  gyp: string | undefined;
  nodedirArgs: string[];
  env: NodeJS.ProcessEnv;
}

/** Finds node-gyp and npm's Node headers once for every build of the setup. */
export async function gypContext(python: string | undefined): Promise<GypContext> {
  const nodedir = await npmNodedir();
  return {
    gyp: bundledNodeGyp(),
    nodedirArgs: nodedir ? [`--nodedir=${nodedir}`] : [],
    env: { ...process.env, ...(python ? { PYTHON: python, npm_config_python: python } : {}) },
  };
}

/** Compiles tfjs-node's binding against `deps/`; returns the built file. */
export async function buildBinding(pkgDir: string, ctx: GypContext, log: (s: string) => void): Promise<string> {
  const args = ['rebuild', '--module_name=tfjs_binding', '--module_path=./lib/napi-build', ...ctx.nodedirArgs];
  log(`compiling the binding with node-gyp${ctx.nodedirArgs.length ? ` (Node headers from ${ctx.nodedirArgs[0]!.slice(10)})` : ''}`);
  if (ctx.gyp) await runCommand('build', process.execPath, [ctx.gyp, ...args], { cwd: pkgDir, env: ctx.env });
  else await runCommand('build', process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--yes', 'node-gyp', ...args], { cwd: pkgDir, env: ctx.env });
  const built = join(pkgDir, 'build', 'Release', 'tfjs_binding.node');
  if (!existsSync(built)) throw new BackendSetupError('build', `node-gyp finished but ${built} is missing`, 'look at the node-gyp output above');
  return built;
}

/** Copies a built binding into tfjs-node's load folder and writes the manifest into `deps/`. */
export function installBinding(pkgDir: string, binding: string, manifest: TensorflowManifest): string {
  const folder = bindingFolder(pkgDir);
  mkdirSync(folder, { recursive: true });
  const target = join(folder, 'tfjs_binding.node');
  if (existsSync(target)) unlinkSync(target);
  copyFileSync(binding, target);
  writeFileSync(join(pkgDir, 'deps', MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return target;
}
