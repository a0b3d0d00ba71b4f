/**
 * Hub dataset files and folders (`hf://datasets/OWNER/NAME[@REVISION][/PATH]`) against a loopback server that
 * answers like huggingface.co (real HTTP, LFS files through a CDN redirect, the `refs/convert/parquet` branch).
 * Files must land in the Python cache layout (`datasets--owner--name/snapshots/{commit}/…`) with identical bytes
 * and read back through lib/data; a cached file needs no request; offline mode uses only the cache; a missing
 * repository, revision or path raises HubDownloadError. The CLI reads `--images`, `--text-file` and `--dataset`
 * from the hub and gives the same results as from local copies. Every request stays on 127.0.0.1.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, readFile, readlink, lstat, readdir, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHubDatasetAddress, resolveHubDataset } from '../../lib/io/hub-dataset.js';
import { readTextDataset } from '../../lib/data/text-dataset.js';
import { listImageFolder } from '../../lib/data/image-folder.js';
import { HubDownloadError, InvalidArgumentError } from '../../lib/errors.js';
import { FakeHub, TOKEN, setEnv, repoFile, commitOf, type RepoFile, type LoggedRequest } from '../helpers/fake-hub.js';
import { writeParquet } from '../helpers/parquet.js';
import { pngBytes, seededImages } from '../helpers/image-datasets.js';
import { CLI } from '../helpers/cli.js';
import { ROOT, fixtureDir } from '../helpers/fixtures.js';
import { defaultTierOnly, testBackend } from '../helpers/backend.js';

const REPO = 'tfjs-lens-test/tiny-text';
const ADDRESS = `hf://datasets/${REPO}`;
const PARQUET = 'default/train/0000.parquet';
const TEXTS = ['The cat sat on the mat.', 'Stocks fell sharply today.', 'A dog ran in the park.', 'Markets rallied after the report.', 'The bird sang at dawn.', 'Bonds rose as yields fell.'];
const LABELS = ['animal', 'finance', 'animal', 'finance', 'animal', 'finance'];
const CLASSES = ['cat', 'dog'];

let workDir = '';
let hub: FakeHub;
let mainFiles: Map<string, RepoFile>;
let parquetFiles: Map<string, RepoFile>;

const storage = (repo = REPO): string => join(workDir, 'hf-home', 'hub', `datasets--${repo.replace('/', '--')}`);
const since = (mark: number): LoggedRequest[] => hub.requests.slice(mark);
const sha = (): string => hub.repos.get(`datasets/${REPO}`)!.sha;
const parquetSha = (): string => hub.repos.get(`datasets/${REPO}`)!.branches!.get('refs/convert/parquet')!.sha;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tfjs-lens-hub-dataset-'));
  const jsonl = TEXTS.map((text, i) => JSON.stringify({ text, label: LABELS[i] })).join('\n') + '\n';
  const images = seededImages(3, 6, 2);
  mainFiles = new Map([
    ['README.md', repoFile(Buffer.from('# tiny-text\n'), false)],
    ['data/train.jsonl', repoFile(Buffer.from(jsonl), false)],
    ['raw/sentences.txt', repoFile(Buffer.from(TEXTS.join('\n') + '\n'), false)],
    ...images.map((im, i) => [`images/${CLASSES[im.label]}/${String(i).padStart(4, '0')}.png`, repoFile(pngBytes(im.rgb), true)] as [string, RepoFile]),
  ]);
  parquetFiles = new Map([[PARQUET, repoFile(Buffer.from(writeParquet([{ name: 'text', values: TEXTS }, { name: 'label', values: LABELS }])), true)]]);
  hub = new FakeHub(
    new Map([
      [`datasets/${REPO}`, { sha: commitOf('tiny-text'), files: mainFiles, branches: new Map([['refs/convert/parquet', { sha: commitOf('tiny-text parquet'), files: parquetFiles }]]) }],
      ['datasets/tfjs-lens-test/private-text', { sha: commitOf('private-text'), files: mainFiles, private: true }],
      // A model with the same name: dataset addresses must never reach it.
      [REPO, { sha: commitOf('model tiny-text'), files: new Map([['config.json', repoFile(Buffer.from('{}'), false)]]) }],
    ]),
  );
  await hub.serve(join(workDir, 'hf-home'));
});

after(async () => {
  await hub?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

test('addresses parse like HfFileSystem paths: revision after @, refs/convert/parquet and refs/pr/N unencoded or percent-encoded', () => {
  assert.deepEqual(parseHubDatasetAddress('hf://datasets/a/b'), { repoId: 'a/b', revision: 'main', path: '' });
  assert.deepEqual(parseHubDatasetAddress('hf://datasets/a/b/'), { repoId: 'a/b', revision: 'main', path: '' });
  assert.deepEqual(parseHubDatasetAddress('hf://datasets/a/b/x/y.parquet'), { repoId: 'a/b', revision: 'main', path: 'x/y.parquet' });
  assert.deepEqual(parseHubDatasetAddress('hf://datasets/a/b@v1.0/x.csv'), { repoId: 'a/b', revision: 'v1.0', path: 'x.csv' });
  assert.deepEqual(parseHubDatasetAddress('hf://datasets/a/b@refs/convert/parquet/c/train/0000.parquet'), { repoId: 'a/b', revision: 'refs/convert/parquet', path: 'c/train/0000.parquet' });
  assert.deepEqual(parseHubDatasetAddress('hf://datasets/a/b@refs%2Fconvert%2Fparquet/c'), { repoId: 'a/b', revision: 'refs/convert/parquet', path: 'c' });
  assert.deepEqual(parseHubDatasetAddress('hf://datasets/a/b@refs/pr/12'), { repoId: 'a/b', revision: 'refs/pr/12', path: '' });
  const c = 'c'.repeat(40);
  assert.deepEqual(parseHubDatasetAddress(`hf://datasets/a/b@${c}/d/e.txt`), { repoId: 'a/b', revision: c, path: 'd/e.txt' });
  for (const bad of ['hf://models/a/b', 'hf://datasets/a', 'hf://datasets/a/b@', 'hf://datasets/a/b/../c', 'hf://datasets/a--x/b', 'hf://datasets/a/b@%zz/x', 'hf://datasets/a/b/c\\d', 'hf://datasets/a/b@refs%2F..%2Fx/y']) {
    assert.throws(() => parseHubDatasetAddress(bad), InvalidArgumentError, bad);
  }
});

test('a file downloads into the Python dataset cache with identical bytes and reads through lib/data; a second resolve makes no request', async () => {
  const mark = hub.requests.length;
  const local = await resolveHubDataset(`${ADDRESS}/data/train.jsonl`, { progress: false });
  assert.equal(local, join(storage(), 'snapshots', sha(), 'data', 'train.jsonl'));
  const file = mainFiles.get('data/train.jsonl')!;
  assert.ok((await lstat(local)).isSymbolicLink());
  assert.equal(await readlink(local), join('..', '..', '..', 'blobs', file.gitOid));
  assert.ok((await readFile(local)).equals(file.bytes));
  assert.equal(await readFile(join(storage(), 'refs', 'main'), 'utf8'), sha());
  assert.deepEqual(await readdir(join(storage(), 'snapshots', sha())), ['data'], 'only the file asked for');
  for (const r of since(mark)) assert.ok(r.url.startsWith('/api/datasets/') || r.url.startsWith('/datasets/'), `${r.method} ${r.url} is not a dataset request`);
  const data = await readTextDataset(local, { labelField: 'label' });
  assert.deepEqual(data.records.map((r) => r.text), TEXTS);
  assert.deepEqual(data.labels, ['animal', 'finance']);
  const again = hub.requests.length;
  assert.equal(await resolveHubDataset(`${ADDRESS}/data/train.jsonl`), local);
  assert.equal(await resolveHubDataset(`${ADDRESS}@${sha()}/data/train.jsonl`), local);
  assert.deepEqual(since(again), []);
});

test('the parquet conversion branch: refs/convert/parquet (either spelling) resolves to its commit, the LFS file comes through the CDN redirect', async () => {
  const mark = hub.requests.length;
  const local = await resolveHubDataset(`${ADDRESS}@refs/convert/parquet/${PARQUET}`, { progress: false });
  assert.equal(local, join(storage(), 'snapshots', parquetSha(), PARQUET));
  assert.ok((await readFile(local)).equals(parquetFiles.get(PARQUET)!.bytes));
  assert.equal(await readFile(join(storage(), 'refs', 'refs', 'convert', 'parquet'), 'utf8'), parquetSha());
  assert.ok(since(mark).some((r) => r.url.startsWith('/cdn-lfs/')));
  assert.ok(since(mark).some((r) => r.url.startsWith(`/api/datasets/${REPO}/revision/refs%2Fconvert%2Fparquet`)));
  const data = await readTextDataset(local, { labelField: 'label' });
  assert.deepEqual(data.records.map((r) => r.text), TEXTS);
  assert.deepEqual([...data.labelIds!], LABELS.map((l) => (l === 'animal' ? 0 : 1)));
  const again = hub.requests.length;
  assert.equal(await resolveHubDataset(`${ADDRESS}@refs%2Fconvert%2Fparquet/${PARQUET}`), local);
  assert.deepEqual(since(again), []);
  // The file is not on main.
  await assert.rejects(resolveHubDataset(`${ADDRESS}/${PARQUET}`, { progress: false }), (err: unknown) => err instanceof HubDownloadError && err.message.includes(`'${PARQUET}'`) && err.message.includes("revision 'main'"));
});

test('a folder downloads every file under it (and nothing else) and reads as an image folder', async () => {
  const local = await resolveHubDataset(`${ADDRESS}/images`, { progress: false });
  assert.equal(local, join(storage(), 'snapshots', sha(), 'images'));
  assert.deepEqual((await readdir(local)).sort(), CLASSES);
  const expected = [...mainFiles.keys()].filter((p) => p.startsWith('images/'));
  for (const p of expected) assert.ok((await readFile(join(storage(), 'snapshots', sha(), p))).equals(mainFiles.get(p)!.bytes), p);
  await assert.rejects(lstat(join(storage(), 'snapshots', sha(), 'README.md')), { code: 'ENOENT' });
  const listing = listImageFolder(local);
  assert.deepEqual(listing.classes, CLASSES);
  assert.equal(listing.items.length, expected.length);
  // Online, a folder is listed again but no file is downloaded again.
  const mark = hub.requests.length;
  assert.equal(await resolveHubDataset(`${ADDRESS}/images`, { progress: false }), local);
  assert.ok(since(mark).every((r) => r.url.startsWith('/api/datasets/')), since(mark).map((r) => r.url).join(', '));
});

test('offline mode answers from the cache (files and folders) and names what is missing', async () => {
  await resolveHubDataset(`${ADDRESS}/raw/sentences.txt`, { progress: false });
  const mark = hub.requests.length;
  setEnv({ HF_HUB_OFFLINE: '1' });
  try {
    assert.equal(await resolveHubDataset(`${ADDRESS}/raw/sentences.txt`), join(storage(), 'snapshots', sha(), 'raw', 'sentences.txt'));
    assert.equal(await resolveHubDataset(`${ADDRESS}/images`), join(storage(), 'snapshots', sha(), 'images'));
    await assert.rejects(resolveHubDataset(`${ADDRESS}/README.md`), (err: unknown) => err instanceof HubDownloadError && /README\.md/.test(err.message) && /HF_HUB_OFFLINE/.test(err.message));
    await assert.rejects(resolveHubDataset(`${ADDRESS}@v2/raw/sentences.txt`), HubDownloadError);
    await assert.rejects(resolveHubDataset('hf://datasets/tfjs-lens-test/never/x.txt'), HubDownloadError);
  } finally {
    setEnv({ HF_HUB_OFFLINE: undefined });
  }
  await assert.rejects(resolveHubDataset(`${ADDRESS}/README.md`, { offline: true }), (err: unknown) => err instanceof HubDownloadError && /offline: true/.test(err.message));
  assert.deepEqual(since(mark), []);
});

test('a missing repository or revision raises HubDownloadError with the URL; a private dataset needs HF_TOKEN', async () => {
  await assert.rejects(resolveHubDataset('hf://datasets/tfjs-lens-test/no-such-data/x.txt', { progress: false }), (err: unknown) => {
    assert.ok(err instanceof HubDownloadError, String(err));
    assert.match(err.message, /404/);
    assert.ok(err.message.includes(`${hub.endpoint}/api/datasets/tfjs-lens-test/no-such-data/revision/main`), err.message);
    return true;
  });
  await assert.rejects(resolveHubDataset(`${ADDRESS}@no-such-branch/raw/sentences.txt`, { progress: false }), (err: unknown) => err instanceof HubDownloadError && /no-such-branch/.test(err.message));
  await assert.rejects(resolveHubDataset('hf://datasets/tfjs-lens-test/private-text/raw/sentences.txt', { progress: false }), (err: unknown) => err instanceof HubDownloadError && /401/.test(err.message) && /HF_TOKEN/.test(err.message));
  setEnv({ HF_TOKEN: TOKEN });
  try {
    const mark = hub.requests.length;
    const local = await resolveHubDataset('hf://datasets/tfjs-lens-test/private-text/raw/sentences.txt', { progress: false });
    assert.ok((await readFile(local)).equals(mainFiles.get('raw/sentences.txt')!.bytes));
    for (const r of since(mark)) assert.equal(r.authorization, `Bearer ${TOKEN}`, r.url);
  } finally {
    setEnv({ HF_TOKEN: undefined });
  }
});

/** Runs the CLI in a child process without blocking this process's event loop (the fake hub answers it). */
async function cliAsync(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, TFJS_LENS_BACKEND: testBackend('cpu'), ...env }, maxBuffer: 1 << 26 });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/** A report without the fields that name where the input was read or written. */
function withoutPaths(json: string): unknown {
  const r = JSON.parse(json) as Record<string, unknown>;
  delete r.files;
  delete r.input;
  delete r.datasets;
  delete r.log;
  return r;
}

test('the CLI reads --images, --text-file (text and parquet) and --dataset from the hub, with the results of local copies', defaultTierOnly(), async () => {
  const env = { HF_HOME: join(workDir, 'cli-home'), HF_ENDPOINT: hub.endpoint };
  // --images: a hub folder vs the same PNGs written locally.
  const localImages = join(workDir, 'local-images');
  for (const [p, f] of mainFiles) {
    if (!p.startsWith('images/')) continue;
    await mkdir(join(localImages, p.split('/')[1]!), { recursive: true });
    await writeFile(join(localImages, p.slice('images/'.length)), f.bytes);
  }
  const satArgs = ['saturation', '--model', fixtureDir('vit-tiny'), '--k', '3', '--reps', '20', '--json'];
  const fromHub = await cliAsync([...satArgs, '--images', `${ADDRESS}/images`, '--out', join(workDir, 'sat-hub')], env);
  assert.equal(fromHub.code, 0, fromHub.stderr);
  const fromDisk = await cliAsync([...satArgs, '--images', localImages, '--out', join(workDir, 'sat-local')]);
  assert.equal(fromDisk.code, 0, fromDisk.stderr);
  assert.deepEqual(withoutPaths(fromHub.stdout), withoutPaths(fromDisk.stdout));
  assert.equal((JSON.parse(fromHub.stdout) as { input: { sequences: number } }).input.sequences, 6);
  // --text-file on the shipped GPT-2.
  const localText = join(workDir, 'sentences.txt');
  await writeFile(localText, mainFiles.get('raw/sentences.txt')!.bytes);
  const textArgs = ['saturation', '--k', '3', '--reps', '20', '--json'];
  const textHub = await cliAsync([...textArgs, '--text-file', `${ADDRESS}/raw/sentences.txt`, '--out', join(workDir, 'sat-text-hub')], env);
  assert.equal(textHub.code, 0, textHub.stderr);
  const textDisk = await cliAsync([...textArgs, '--text-file', localText, '--out', join(workDir, 'sat-text-local')]);
  assert.deepEqual(withoutPaths(textHub.stdout), withoutPaths(textDisk.stdout));
  // --text-file on the parquet conversion: one sentence per record of the text column, as the lines of the text file.
  const parquetHub = await cliAsync([...textArgs, '--text-file', `${ADDRESS}@refs/convert/parquet/${PARQUET}`, '--text-field', 'text', '--out', join(workDir, 'sat-parquet-hub')], env);
  assert.equal(parquetHub.code, 0, parquetHub.stderr);
  assert.deepEqual(withoutPaths(parquetHub.stdout), withoutPaths(textDisk.stdout));
  assert.equal((JSON.parse(parquetHub.stdout) as { input: { sequences: number } }).input.sequences, TEXTS.length);
  // Offline after the download: the same run, no request.
  const mark = hub.requests.length;
  const offline = await cliAsync([...textArgs, '--text-file', `${ADDRESS}/raw/sentences.txt`, '--out', join(workDir, 'sat-text-offline')], { ...env, HF_HUB_OFFLINE: '1' });
  assert.equal(offline.code, 0, offline.stderr);
  assert.deepEqual(withoutPaths(offline.stdout), withoutPaths(textHub.stdout));
  assert.deepEqual(since(mark), []);
  // A missing file is a typed error on stderr, exit 1.
  const missing = await cliAsync([...textArgs, '--text-file', `${ADDRESS}/raw/nope.txt`, '--out', join(workDir, 'sat-missing')], env);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /has no file or folder 'raw\/nope\.txt'/);
  // --dataset of probe-grid: the parquet conversion, the same grid as the local copy.
  const localParquet = join(workDir, '0000.parquet');
  await writeFile(localParquet, parquetFiles.get(PARQUET)!.bytes);
  const gridArgs = ['probe-grid', '--layers', '1', '--poolers', 'mean', '--classifiers', 'logistic', '--folds', '2', '--json'];
  const gridHub = await cliAsync([...gridArgs, '--dataset', `${ADDRESS}@refs/convert/parquet/${PARQUET}`, '--out', join(workDir, 'grid-hub')], env);
  assert.equal(gridHub.code, 0, gridHub.stderr);
  const gridDisk = await cliAsync([...gridArgs, '--dataset', localParquet, '--out', join(workDir, 'grid-local')]);
  assert.equal(gridDisk.code, 0, gridDisk.stderr);
  const grid = (out: string) => (JSON.parse(out) as { summary: { fitMs?: number }[] }).summary.map(({ fitMs: _, ...row }) => row);
  assert.deepEqual(grid(gridHub.stdout), grid(gridDisk.stdout));
  assert.ok(grid(gridHub.stdout).length > 0);
});
