/**
 * The pieces of `tfjs-lens setup tensorflow` on small stand-ins: a wheel made here (zip), a Python
 * site-packages folder with a fake TensorFlow distribution, library preloading, deps/ layout. The real
 * wheel and the full build run in CI (`.ci/run` sets the backend up; the tensorflow test tier uses it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readlinkSync, existsSync, createWriteStream, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yazl from 'yazl';
import { extractFromWheel, inspectWheel, parseBuildInfo, parseWheelName } from '../../../lib/backend/tensorflow-setup/wheel.js';
import { checkVersion, probePython } from '../../../lib/backend/tensorflow-setup/locate.js';
import { layOutDeps, stageTensorflow, bindingFolder } from '../../../lib/backend/tensorflow-setup/build.js';
import { compareVersions, cacheRoot, buildDir } from '../../../lib/backend/tensorflow-setup/layout.js';
import { preloadLibrary, preloadLibraries } from '../../../lib/backend/tensorflow-setup/preload.js';
import { BackendSetupError } from '../../../lib/errors.js';

const CPU_BUILD_INFO = "build_info = collections.OrderedDict([('is_cuda_build', False), ('is_rocm_build', False)])\n";
const CUDA_BUILD_INFO = "build_info = collections.OrderedDict([('cuda_version', '12.5.1'), ('cudnn_version', '9'), ('is_cuda_build', True)])\n";
const hasPython = spawnSync('python3', ['--version']).status === 0;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tfjs-lens-setup-'));
}

async function makeWheel(path: string, entries: Record<string, string>): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, text] of Object.entries(entries)) zip.addBuffer(Buffer.from(text), name);
  zip.end();
  await new Promise<void>((resolve, reject) => zip.outputStream.pipe(createWriteStream(path)).on('close', resolve).on('error', reject));
}

const WHEEL_ENTRIES = {
  'tensorflow/python/platform/build_info.py': CPU_BUILD_INFO,
  'tensorflow/libtensorflow_cc.so.2': 'cc-bytes',
  'tensorflow/libtensorflow_framework.so.2': 'framework-bytes',
  'tensorflow/include/tensorflow/c/c_api.h': '/* c api */',
  'tensorflow/include/tensorflow/c/eager/c_api.h': '/* eager */',
  'tensorflow/include/tsl/platform/ctstring.h': '/* tstring */',
  'tensorflow/include/xla/tsl/c/tsl_status.h': '/* status */',
  'tensorflow/include/Eigen/Core': 'not needed by the binding',
  'tensorflow/python/ops/array_ops.py': 'not needed',
};

test('wheel names and build_info.py are parsed; other files are refused with a typed error', () => {
  assert.deepEqual(parseWheelName('/x/tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl'), { distribution: 'tensorflow_cpu', version: '2.21.0' });
  assert.throws(() => parseWheelName('tensorflow.tar.gz'), BackendSetupError);
  assert.deepEqual(parseBuildInfo(CPU_BUILD_INFO), { cuda: false });
  assert.deepEqual(parseBuildInfo(CUDA_BUILD_INFO), { cuda: true, cudaVersion: '12.5.1' });
});

test('TensorFlow versions: 2.9 and newer accepted, 1.x and older 2.x refused; numeric comparison', () => {
  assert.equal(compareVersions('2.10.0', '2.9.1'), 1);
  assert.equal(compareVersions('2.21.0', '2.21.0'), 0);
  assert.doesNotThrow(() => checkVersion('2.21.0', 'x'));
  assert.doesNotThrow(() => checkVersion('2.9.0', 'x'));
  assert.throws(() => checkVersion('2.8.4', 'x'), /2\.9\.0 or newer/);
  assert.throws(() => checkVersion('1.15.5', 'x'), BackendSetupError);
});

test('a wheel is inspected without extracting it, and staging extracts only the libraries and the C headers', async () => {
  const dir = tmp();
  const wheel = join(dir, 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl');
  await makeWheel(wheel, WHEEL_ENTRIES);
  const info = await inspectWheel(wheel);
  assert.deepEqual({ ...info, libraries: [...info.libraries].sort() }, {
    distribution: 'tensorflow_cpu', version: '2.21.0', cuda: false,
    libraries: ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'],
  });
  const staged = join(dir, 'staged');
  await stageTensorflow({ kind: 'wheel', wheel, version: '2.21.0', cuda: false, cudaLibDirs: [] }, staged);
  assert.equal(readFileSync(join(staged, 'lib', 'libtensorflow_cc.so.2'), 'utf8'), 'cc-bytes');
  assert.equal(readFileSync(join(staged, 'include', 'tensorflow', 'c', 'eager', 'c_api.h'), 'utf8'), '/* eager */');
  assert.ok(existsSync(join(staged, 'include', 'xla', 'tsl', 'c', 'tsl_status.h')));
  assert.ok(!existsSync(join(staged, 'include', 'Eigen')), 'headers the binding does not include stay in the wheel');
  // deps/ points at the staged copy under every name the binding links against.
  const pkg = join(dir, 'tfjs-node');
  mkdirSync(pkg);
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ binary: { napi_versions: [3, 4, 5, 6, 7, 8] } }));
  layOutDeps(pkg, staged);
  for (const n of ['libtensorflow.so', 'libtensorflow.so.2', 'libtensorflow_cc.so.2']) assert.equal(readlinkSync(join(pkg, 'deps', 'lib', n)), join(staged, 'lib', 'libtensorflow_cc.so.2'));
  assert.equal(readlinkSync(join(pkg, 'deps', 'lib', 'libtensorflow_framework.so.2')), join(staged, 'lib', 'libtensorflow_framework.so.2'));
  layOutDeps(pkg, staged); // idempotent
  assert.equal(bindingFolder(pkg), join(pkg, 'lib', 'napi-v8'));
  rmSync(dir, { recursive: true, force: true });
});

test('a wheel that is not TensorFlow, or a damaged zip, gives BackendSetupError', async () => {
  const dir = tmp();
  const notTf = join(dir, 'numpy-2.0.0-cp311-cp311-manylinux_2_27_x86_64.whl');
  await makeWheel(notTf, { 'numpy/__init__.py': '' });
  await assert.rejects(inspectWheel(notTf), (e: unknown) => e instanceof BackendSetupError && /not a TensorFlow 2 wheel/.test((e as Error).message));
  const broken = join(dir, 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl');
  writeFileSync(broken, 'PK\u0003\u0004 truncated');
  await assert.rejects(inspectWheel(broken), BackendSetupError);
  await assert.rejects(extractFromWheel(broken, join(dir, 'out'), 'tensorflow/', () => true), BackendSetupError);
  rmSync(dir, { recursive: true, force: true });
});

test('a Python TensorFlow is found without importing it: version, CUDA build, nvidia-* library folders', { skip: !hasPython && 'no python3 on this machine' }, async () => {
  const site = tmp();
  const tfDir = join(site, 'tensorflow');
  mkdirSync(join(tfDir, 'python', 'platform'), { recursive: true });
  writeFileSync(join(tfDir, '__init__.py'), 'raise ImportError("the probe must not import tensorflow")\n');
  writeFileSync(join(tfDir, 'python', 'platform', 'build_info.py'), CUDA_BUILD_INFO);
  for (const f of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) writeFileSync(join(tfDir, f), 'x');
  mkdirSync(join(site, 'tensorflow-2.21.0.dist-info'));
  writeFileSync(join(site, 'tensorflow-2.21.0.dist-info', 'METADATA'), 'Metadata-Version: 2.1\nName: tensorflow\nVersion: 2.21.0\n');
  for (const n of ['cublas', 'cudnn']) mkdirSync(join(site, 'nvidia', n, 'lib'), { recursive: true });
  const python = join(site, 'python-wrapper.sh');
  writeFileSync(python, `#!/bin/sh\nPYTHONPATH=${site} exec python3 "$@"\n`, { mode: 0o755 });
  const found = await probePython(python);
  assert.ok(found);
  assert.equal(found.kind, 'python');
  assert.equal(found.version, '2.21.0');
  assert.equal(found.cuda, true);
  assert.equal(found.cudaVersion, '12.5.1');
  assert.equal(found.packageDir, tfDir);
  assert.deepEqual(found.cudaLibDirs, [join(site, 'nvidia', 'cublas', 'lib'), join(site, 'nvidia', 'cudnn', 'lib')]);
  const none = join(site, 'bare-python.sh');
  writeFileSync(none, '#!/bin/sh\nPYTHONPATH= exec python3 -S "$@"\n', { mode: 0o755 });
  assert.equal(await probePython(none), undefined, 'a Python without TensorFlow');
  await assert.rejects(probePython(join(site, 'no-such-python')), (e: unknown) => e instanceof BackendSetupError && e.step === 'locate');
  rmSync(site, { recursive: true, force: true });
});

test('shared libraries are preloaded and stay mapped; a missing one is reported, not thrown', () => {
  const libz = ['/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/x86_64-linux-gnu/libz.so.1', '/lib/aarch64-linux-gnu/libz.so.1'].find((p) => existsSync(p));
  if (libz) {
    assert.equal(preloadLibrary(libz), undefined);
    assert.ok(readFileSync('/proc/self/maps', 'utf8').includes('libz.so'), 'libz stays mapped after Node reports it is no addon');
  }
  const dir = tmp();
  writeFileSync(join(dir, 'libbroken.so.1'), 'not an ELF file');
  const report = preloadLibraries([dir, join(dir, 'missing')]);
  assert.deepEqual(report.loaded, []);
  assert.equal(report.failed.length, 1);
  assert.match(report.failed[0]!.why, /invalid ELF|file too short|not an ELF/i);
  rmSync(dir, { recursive: true, force: true });
});

test('the cache folder follows TFJS_LENS_CACHE, then XDG_CACHE_HOME, and keys builds by version and CUDA', () => {
  assert.equal(cacheRoot({ TFJS_LENS_CACHE: '/c' }), '/c');
  assert.equal(cacheRoot({ XDG_CACHE_HOME: '/x' }), join('/x', 'tfjs-lens'));
  assert.equal(buildDir('/c', '2.21.0', true), join('/c', 'tensorflow', '2.21.0-cuda'));
});

test("libtensorflow's start-up notices are recognised by level; other lines are kept", async () => {
  const { isStartupNotice } = await import('../../../lib/backend/tensorflow.js');
  const absl = 'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR';
  const onednn = 'I0000 00:00:1796555366.173610   17894 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results.';
  const guard = 'To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.';
  const warning = 'W0000 00:00:1796555366.173610   17894 cpu_allocator_impl.cc:83] Allocation of 8589934592 exceeds 10% of free system memory.';
  const error = 'E0000 00:00:1796555366.173610   17894 some_file.cc:12] something failed';
  for (const line of [absl, onednn, guard]) assert.equal(isStartupNotice(line, 3), true, line);
  assert.equal(isStartupNotice(onednn, 0), false, 'TF_CPP_MIN_LOG_LEVEL=0 keeps INFO lines');
  assert.equal(isStartupNotice(warning, 1), false);
  assert.equal(isStartupNotice(warning, 2), true);
  assert.equal(isStartupNotice(error, 2), false);
  assert.equal(isStartupNotice('Segmentation fault in libtensorflow', 3), false);
});
