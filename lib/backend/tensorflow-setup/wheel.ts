/**
 * Reads the parts of a TensorFlow wheel (a zip file) that the binding needs: the two shared libraries, the
 * C headers under `tensorflow/include/`, `build_info.py` (CUDA or not) and the version in the file name.
 * Uses `yauzl` (streaming, one entry at a time: the 274 MB wheel is never held in memory).
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { basename, dirname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { BackendSetupError } from '../../errors.js';

/** What a wheel holds, read without extracting it. */
export interface WheelInfo {
  /** Distribution name from the file name, e.g. `tensorflow_cpu`. */
  distribution: string;
  /** Version from the file name, e.g. `2.21.0`. */
  version: string;
  /** From `tensorflow/python/platform/build_info.py`. */
  cuda: boolean;
  /** CUDA version the wheel was built against, when `cuda`. */
  cudaVersion?: string;
  /** Entry names of the two libraries (`tensorflow/libtensorflow_cc.so.2`, …) present in the wheel. */
  libraries: string[];
}

/** Parses `name-version-…whl` (PEP 427); throws a typed error for anything else. */
export function parseWheelName(file: string): { distribution: string; version: string } {
  const m = /^([A-Za-z0-9_.]+)-([0-9][^-]*)-.+\.whl$/.exec(basename(file));
  if (!m) throw new BackendSetupError('wheel', `'${basename(file)}' is not a wheel file name (name-version-tags.whl)`, 'pass the .whl file pip downloaded, e.g. tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl');
  return { distribution: m[1]!, version: m[2]! };
}

/** Reads `build_info.py` text: `('is_cuda_build', True)` and `('cuda_version', '12.5.1')`. */
export function parseBuildInfo(text: string): { cuda: boolean; cudaVersion?: string } {
  const cuda = /'is_cuda_build',\s*True/.test(text);
  const v = /'cuda_version',\s*'([^']+)'/.exec(text)?.[1];
  return v ? { cuda, cudaVersion: v } : { cuda };
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false }, (err, zip) => {
      if (err || !zip) reject(new BackendSetupError('wheel', `cannot read ${file} as a zip file: ${err?.message ?? 'unknown error'}`, 'download the wheel again (pip download --no-deps tensorflow-cpu==2.21.0)'));
      else resolve(zip);
    });
  });
}

/** Calls `visit` for every entry in order; `visit` may consume the entry's stream. */
async function eachEntry(file: string, visit: (zip: yauzl.ZipFile, entry: yauzl.Entry) => Promise<void>): Promise<void> {
  const zip = await openZip(file);
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        visit(zip, entry).then(() => zip.readEntry(), reject);
      });
      zip.on('end', resolve);
      zip.on('error', reject);
      zip.readEntry();
    });
  } catch (err) {
    if (err instanceof BackendSetupError) throw err;
    throw new BackendSetupError('wheel', `${file} is damaged: ${(err as Error).message}`, 'download the wheel again');
  } finally {
    zip.close();
  }
}

function entryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, s) => (err || !s ? reject(err ?? new Error('no stream')) : resolve(s))));
}

async function entryText(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await entryStream(zip, entry)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Inspects a TensorFlow wheel without extracting it. */
export async function inspectWheel(file: string): Promise<WheelInfo> {
  const { distribution, version } = parseWheelName(file);
  let build: { cuda: boolean; cudaVersion?: string } | undefined;
  const libraries: string[] = [];
  await eachEntry(file, async (zip, entry) => {
    if (entry.fileName === 'tensorflow/python/platform/build_info.py') build = parseBuildInfo(await entryText(zip, entry));
    else if (/^tensorflow\/libtensorflow(_cc|_framework)\.so\.2$/.test(entry.fileName)) libraries.push(entry.fileName);
  });
  if (!build || libraries.length !== 2) {
    throw new BackendSetupError('wheel', `${basename(file)} is not a TensorFlow 2 wheel for Linux (no tensorflow/libtensorflow_cc.so.2 + libtensorflow_framework.so.2 + build_info.py)`, 'use a tensorflow or tensorflow-cpu wheel for Linux (manylinux)');
  }
  return { distribution, version, ...build, libraries };
}

/**
 * Extracts the entries `select` keeps into `dest`, keeping their paths relative to `strip`
 * (entry `tensorflow/include/x.h` with strip `tensorflow/` lands at `dest/include/x.h`).
 * @returns how many files were written.
 */
export async function extractFromWheel(file: string, dest: string, strip: string, select: (name: string) => boolean): Promise<number> {
  let written = 0;
  const root = normalize(dest) + sep;
  await eachEntry(file, async (zip, entry) => {
    const name = entry.fileName;
    if (name.endsWith('/') || !name.startsWith(strip) || !select(name)) return;
    const target = normalize(join(dest, name.slice(strip.length)));
    if (!target.startsWith(root)) throw new BackendSetupError('wheel', `entry ${name} would leave ${dest}`, 'the wheel is damaged or hostile; download it again');
    mkdirSync(dirname(target), { recursive: true });
    await pipeline(await entryStream(zip, entry), createWriteStream(target));
    written++;
  });
  return written;
}
