/**
 * Hub downloads against a loopback server that answers the endpoints `@huggingface/hub` calls, the way
 * huggingface.co does (`/api/models/{repo}/revision/{rev}`, `/paths-info/{rev}`, `/tree/{rev}`,
 * `/{repo}/resolve/{rev}/{file}` with ETag / X-Repo-Commit / Content-Range, LFS files redirected to a CDN path).
 * Files must land in the Python cache layout with identical bytes; a second resolve makes no request;
 * offline mode uses only the cache; missing repositories, network failures and stalled servers (no answer, or a
 * body that stops: bounded by the idle timeout) raise HubDownloadError.
 * Every request is checked to stay on 127.0.0.1.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm, readFile, readlink, lstat, readdir, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { resolveModelDir } from '../../lib/io/resolve.js';
import { openCheckpoint } from '../../lib/io/checkpoint.js';
import { readAllSafetensors, type HostTensor } from '../../lib/io/safetensors.js';
import { saveSafetensors } from '../../lib/io/safetensors-writer.js';
import type { DownloadProgress } from '../../lib/io/hub.js';
import { CheckpointError, HubDownloadError, InvalidArgumentError } from '../../lib/errors.js';
import { FakeHub, TOKEN, setEnv, repoFile, commitOf, type Repo, type RepoFile, type LoggedRequest } from '../helpers/fake-hub.js';

const FIXTURE_DIR = fileURLToPath(new URL('../../../test/fixtures/hf/gpt2-tiny', import.meta.url));
let workDir = '';
let hub: FakeHub;

let fixtureFiles: Map<string, RepoFile>;
let shardedFiles: Map<string, RepoFile>;

const cacheRoot = (): string => join(workDir, 'hf-home', 'hub');
const countSince = (mark: number): LoggedRequest[] => hub.requests.slice(mark);

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'tfjs-lens-hub-'));

  const config = await readFile(join(FIXTURE_DIR, 'config.json'));
  const weights = await readFile(join(FIXTURE_DIR, 'model.safetensors'));
  fixtureFiles = new Map([
    ['config.json', repoFile(config, false)],
    ['model.safetensors', repoFile(weights, true)],
    ['expected.safetensors', repoFile(await readFile(join(FIXTURE_DIR, 'expected.safetensors')), true)],
    ['inputs.safetensors', repoFile(await readFile(join(FIXTURE_DIR, 'inputs.safetensors')), true)],
    ['tokenizer_config.json', repoFile(Buffer.from('{"model_max_length": 64}\n'), false)],
    ['README.md', repoFile(Buffer.from('# gpt2-tiny\n'), false)],
  ]);

  // The fixture split into two shards with an index, as save_pretrained writes large checkpoints.
  const tensors = await readAllSafetensors(join(FIXTURE_DIR, 'model.safetensors'));
  const names = [...tensors.keys()];
  const shardDir = join(workDir, 'shards');
  await import('node:fs/promises').then((fs) => fs.mkdir(shardDir));
  const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const weightMap: Record<string, string> = {};
  shardedFiles = new Map([['config.json', repoFile(config, false)]]);
  for (const [i, part] of [names.slice(0, 17), names.slice(17)].entries()) {
    const path = join(shardDir, shardNames[i]!);
    await saveSafetensors(path, new Map(part.map((n) => [n, { shape: tensors.get(n)!.shape, data: tensors.get(n)!.data as Float32Array }])), { format: 'pt' });
    for (const n of part) weightMap[n] = shardNames[i]!;
    shardedFiles.set(shardNames[i]!, repoFile(await readFile(path), true));
  }
  shardedFiles.set('model.safetensors.index.json', repoFile(Buffer.from(JSON.stringify({ metadata: { total_size: weights.byteLength }, weight_map: weightMap }, null, 2)), false));

  hub = new FakeHub(
    new Map<string, Repo>([
      ['tfjs-lens-test/gpt2-tiny', { sha: commitOf('gpt2-tiny'), files: fixtureFiles }],
      ['tfjs-lens-test/gpt2-tiny-sharded', { sha: commitOf('sharded'), files: shardedFiles }],
      ['openai-community/gpt2', { sha: commitOf('openai-community/gpt2'), files: fixtureFiles }],
      ['tfjs-lens-test/private-tiny', { sha: commitOf('private'), files: fixtureFiles, private: true }],
      ['tfjs-lens-test/bin-only', { sha: commitOf('bin'), files: new Map([['config.json', repoFile(config, false)], ['pytorch_model.bin', repoFile(Buffer.from('not really'), true)]]) }],
      ['tfjs-lens-test/broken', { sha: commitOf('broken'), files: fixtureFiles, broken: new Set(['model.safetensors']) }],
      ['tfjs-lens-test/dropped', { sha: commitOf('dropped'), files: fixtureFiles, truncated: new Set(['model.safetensors']) }],
      ['tfjs-lens-test/stalled', { sha: commitOf('stalled'), files: fixtureFiles, stalled: new Set(['model.safetensors']) }],
      ['tfjs-lens-test/silent', { sha: commitOf('silent'), files: fixtureFiles, silent: true }],
    ]),
  );
  await hub.serve(join(workDir, 'hf-home'));
});

after(async () => {
  await hub?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

test('downloads config, weights and tokenizer files into the Python cache layout with identical bytes', async () => {
  const repo = hub.repos.get('tfjs-lens-test/gpt2-tiny')!;
  const events: DownloadProgress[] = [];
  const dir = await resolveModelDir('tfjs-lens-test/gpt2-tiny', { progress: (e) => events.push({ ...e }) });
  const storage = join(cacheRoot(), 'models--tfjs-lens-test--gpt2-tiny');
  assert.equal(dir, join(storage, 'snapshots', repo.sha));
  assert.equal(await readFile(join(storage, 'refs', 'main'), 'utf8'), repo.sha);
  assert.deepEqual(await readdir(join(storage, 'snapshots')), [repo.sha]);
  for (const name of ['config.json', 'model.safetensors', 'tokenizer_config.json']) {
    const file = fixtureFiles.get(name)!;
    const blob = file.lfsOid ?? file.gitOid;
    assert.ok((await lstat(join(dir, name))).isSymbolicLink(), `${name} is a symlink`);
    assert.equal(await readlink(join(dir, name)), join('..', '..', 'blobs', blob));
    assert.ok((await readFile(join(dir, name))).equals(file.bytes), `${name} bytes`);
    assert.ok((await readFile(join(storage, 'blobs', blob))).equals(file.bytes), `${name} blob`);
  }
  // Only what a model needs: no README, no fixture activations, no partial downloads.
  assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'model.safetensors', 'tokenizer_config.json']);
  assert.equal((await readdir(join(storage, 'blobs'))).filter((b) => b.endsWith('.incomplete')).length, 0);
  // Absent optional files are recorded like huggingface_hub does.
  await access(join(storage, '.no_exist', repo.sha, 'tokenizer.json'));
  await access(join(storage, '.no_exist', repo.sha, 'merges.txt'));
  // Progress reports end with the full size of each downloaded file.
  const last = events.filter((e) => e.file === 'model.safetensors' && e.done);
  assert.equal(last.length, 1);
  assert.equal(last[0]!.bytes, fixtureFiles.get('model.safetensors')!.bytes.byteLength);
  assert.equal(last[0]!.total, fixtureFiles.get('model.safetensors')!.bytes.byteLength);
  // The LFS file was fetched through the CDN redirect, and the snapshot opens as a checkpoint.
  assert.ok(hub.requests.some((r) => r.url.startsWith('/cdn-lfs/')));
  const checkpoint = await openCheckpoint(dir);
  try {
    assert.equal(checkpoint.keys().length, 40);
    assert.deepEqual(checkpoint.info('transformer.wte.weight').shape, [1000, 64]);
  } finally {
    await checkpoint.close();
  }
});

test('a second resolve answers from the cache without any request', async () => {
  const first = await resolveModelDir('tfjs-lens-test/gpt2-tiny', { progress: false });
  const mark = hub.requests.length;
  const second = await resolveModelDir('tfjs-lens-test/gpt2-tiny', { progress: false });
  assert.equal(second, first);
  assert.deepEqual(countSince(mark), []);
});

test('refresh asks the hub again but downloads nothing already cached', async () => {
  const mark = hub.requests.length;
  const dir = await resolveModelDir('tfjs-lens-test/gpt2-tiny', { progress: false, refresh: true });
  assert.equal(dir, join(cacheRoot(), 'models--tfjs-lens-test--gpt2-tiny', 'snapshots', hub.repos.get('tfjs-lens-test/gpt2-tiny')!.sha));
  const made = countSince(mark);
  assert.deepEqual(made.map((r) => r.url.split('?')[0]), ['/api/models/tfjs-lens-test/gpt2-tiny/revision/main']);
});

test('a file missing from the cache is fetched alone', async () => {
  const repo = hub.repos.get('tfjs-lens-test/gpt2-tiny')!;
  const storage = join(cacheRoot(), 'models--tfjs-lens-test--gpt2-tiny');
  const config = fixtureFiles.get('config.json')!;
  await rm(join(storage, 'snapshots', repo.sha, 'config.json'));
  await rm(join(storage, 'blobs', config.gitOid));
  const mark = hub.requests.length;
  const dir = await resolveModelDir('tfjs-lens-test/gpt2-tiny', { progress: false });
  assert.ok((await readFile(join(dir, 'config.json'))).equals(config.bytes));
  const fileRequests = countSince(mark).filter((r) => !r.url.startsWith('/api/models/tfjs-lens-test/gpt2-tiny/revision/'));
  assert.ok(fileRequests.length > 0);
  for (const r of fileRequests) assert.match(r.body ?? r.url, /config\.json/, `unexpected request ${r.method} ${r.url} ${r.body ?? ''}`);
});

test('offline mode uses only the cache and names an uncached repository', async () => {
  const online = await resolveModelDir('tfjs-lens-test/gpt2-tiny', { progress: false });
  const mark = hub.requests.length;
  assert.equal(await resolveModelDir('tfjs-lens-test/gpt2-tiny', { offline: true }), online);
  setEnv({ HF_HUB_OFFLINE: '1' });
  try {
    assert.equal(await resolveModelDir('tfjs-lens-test/gpt2-tiny'), online);
    await assert.rejects(resolveModelDir('tfjs-lens-test/gpt2-tiny-sharded'), (err: unknown) => {
      assert.ok(err instanceof HubDownloadError);
      assert.match(err.message, /tfjs-lens-test\/gpt2-tiny-sharded/);
      assert.match(err.message, /HF_HUB_OFFLINE/);
      return true;
    });
  } finally {
    setEnv({ HF_HUB_OFFLINE: undefined });
  }
  await assert.rejects(resolveModelDir('tfjs-lens-test/never-downloaded', { offline: true }), (err: unknown) => err instanceof HubDownloadError && /tfjs-lens-test\/never-downloaded/.test(err.message));
  await assert.rejects(resolveModelDir('tfjs-lens-test/gpt2-tiny', { offline: true, revision: 'v2' }), HubDownloadError);
  assert.deepEqual(countSince(mark), []);
});

test('a sharded repository downloads the index and every shard, and reads back like the single file', async () => {
  const repo = hub.repos.get('tfjs-lens-test/gpt2-tiny-sharded')!;
  const dir = await resolveModelDir('tfjs-lens-test/gpt2-tiny-sharded', { progress: false });
  assert.equal(dir, join(cacheRoot(), 'models--tfjs-lens-test--gpt2-tiny-sharded', 'snapshots', repo.sha));
  assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
  for (const name of await readdir(dir)) assert.ok((await readFile(join(dir, name))).equals(shardedFiles.get(name)!.bytes), name);
  const single = await readAllSafetensors(join(FIXTURE_DIR, 'model.safetensors'));
  const checkpoint = await openCheckpoint(dir);
  try {
    assert.equal(checkpoint.keys().length, single.size);
    for (const [name, expected] of single) {
      const got: HostTensor = await checkpoint.read(name);
      assert.deepEqual(got.shape, expected.shape, name);
      assert.deepEqual(got.data, expected.data, name);
    }
  } finally {
    await checkpoint.close();
  }
  const mark = hub.requests.length;
  assert.equal(await resolveModelDir('tfjs-lens-test/gpt2-tiny-sharded', { offline: true }), dir);
  assert.equal(await resolveModelDir('tfjs-lens-test/gpt2-tiny-sharded'), dir);
  assert.deepEqual(countSince(mark), []);
});

test('the legacy name gpt2 resolves to openai-community/gpt2; a commit hash works as revision', async () => {
  const repo = hub.repos.get('openai-community/gpt2')!;
  const dir = await resolveModelDir('gpt2', { progress: false });
  assert.equal(dir, join(cacheRoot(), 'models--openai-community--gpt2', 'snapshots', repo.sha));
  const mark = hub.requests.length;
  assert.equal(await resolveModelDir('openai-community/gpt2', { revision: repo.sha }), dir);
  assert.deepEqual(countSince(mark), []);
});

test('a missing repository or revision raises HubDownloadError with the URL', async () => {
  await assert.rejects(resolveModelDir('tfjs-lens-test/no-such-model', { progress: false }), (err: unknown) => {
    assert.ok(err instanceof HubDownloadError, String(err));
    assert.match(err.message, /tfjs-lens-test\/no-such-model/);
    assert.match(err.message, /404/);
    assert.ok(err.message.includes(`${hub.endpoint}/api/models/tfjs-lens-test/no-such-model/revision/main`), err.message);
    return true;
  });
  await assert.rejects(resolveModelDir('tfjs-lens-test/gpt2-tiny', { revision: 'no-such-branch', progress: false }), (err: unknown) => err instanceof HubDownloadError && /no-such-branch/.test(err.message));
});

test('a private repository needs HF_TOKEN, which is sent to the hub', async () => {
  await assert.rejects(resolveModelDir('tfjs-lens-test/private-tiny', { progress: false }), (err: unknown) => err instanceof HubDownloadError && /401/.test(err.message) && /HF_TOKEN/.test(err.message));
  setEnv({ HF_TOKEN: TOKEN });
  try {
    const mark = hub.requests.length;
    const dir = await resolveModelDir('tfjs-lens-test/private-tiny', { progress: false });
    assert.ok((await readFile(join(dir, 'model.safetensors'))).equals(fixtureFiles.get('model.safetensors')!.bytes));
    const made = countSince(mark);
    assert.ok(made.length > 0);
    for (const r of made) assert.equal(r.authorization, `Bearer ${TOKEN}`, `${r.method} ${r.url}`);
  } finally {
    setEnv({ HF_TOKEN: undefined });
  }
});

test('a server error mid-download raises HubDownloadError naming the file URL', async () => {
  await assert.rejects(resolveModelDir('tfjs-lens-test/broken', { progress: false }), (err: unknown) => {
    assert.ok(err instanceof HubDownloadError, String(err));
    assert.match(err.message, /\/tfjs-lens-test\/broken\/resolve\/[0-9a-f]{40}\/model\.safetensors/);
    assert.match(err.message, /500|Internal Error/);
    return true;
  });
});

test('a connection dropped mid-file raises HubDownloadError and leaves no blob or snapshot link', async () => {
  await assert.rejects(resolveModelDir('tfjs-lens-test/dropped', { progress: false }), (err: unknown) => {
    assert.ok(err instanceof HubDownloadError, String(err));
    assert.match(err.message, /\/tfjs-lens-test\/dropped\/resolve\/[0-9a-f]{40}\/model\.safetensors/);
    return true;
  });
  const storage = join(cacheRoot(), 'models--tfjs-lens-test--dropped');
  const lfsOid = fixtureFiles.get('model.safetensors')!.lfsOid!;
  await assert.rejects(access(join(storage, 'blobs', lfsOid)), { code: 'ENOENT' });
  await assert.rejects(lstat(join(storage, 'snapshots', hub.repos.get('tfjs-lens-test/dropped')!.sha, 'model.safetensors')), { code: 'ENOENT' });
  await assert.rejects(resolveModelDir('tfjs-lens-test/dropped', { offline: true }), HubDownloadError);
});

test('a repository without safetensors weights raises CheckpointError', async () => {
  await assert.rejects(resolveModelDir('tfjs-lens-test/bin-only', { progress: false }), (err: unknown) => err instanceof CheckpointError && /pytorch_model\.bin/.test(err.message));
});

test('an unreachable endpoint raises HubDownloadError with the URL and the reason', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await assert.rejects(resolveModelDir('tfjs-lens-test/gpt2-tiny-unreachable', { endpoint: `http://127.0.0.1:${port}`, progress: false }), (err: unknown) => {
    assert.ok(err instanceof HubDownloadError, String(err));
    assert.ok(err.message.includes(`http://127.0.0.1:${port}/api/models/tfjs-lens-test/gpt2-tiny-unreachable/revision/main`), err.message);
    assert.match(err.message, /ECONNREFUSED/);
    return true;
  });
});

/** Runs `fn`, which must reject with a HubDownloadError matching `pattern`, within `maxMs`. */
async function stallsWithin(maxMs: number, pattern: RegExp, fn: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await assert.rejects(fn(), (err: unknown) => {
    assert.ok(err instanceof HubDownloadError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
  assert.ok(performance.now() - start < maxMs, `took ${Math.round(performance.now() - start)} ms`);
}

test('a server that accepts the request and never answers fails after the idle timeout (option or HF_HUB_DOWNLOAD_TIMEOUT)', async () => {
  await stallsWithin(5_000, /request to http:\/\/127\.0\.0\.1:\d+\/api\/models\/tfjs-lens-test\/silent\/revision\/main stalled: no response for 0\.3 s[\s\S]*timeoutMs/, () =>
    resolveModelDir('tfjs-lens-test/silent', { progress: false, timeoutMs: 300 }),
  );
  setEnv({ HF_HUB_DOWNLOAD_TIMEOUT: '0.2' });
  try {
    await stallsWithin(5_000, /stalled: no response for 0\.2 s/, () => resolveModelDir('tfjs-lens-test/silent', { progress: false }));
    // The option wins over the variable.
    await stallsWithin(5_000, /stalled: no response for 0\.25 s/, () => resolveModelDir('tfjs-lens-test/silent', { progress: false, timeoutMs: 250 }));
    setEnv({ HF_HUB_DOWNLOAD_TIMEOUT: 'soon' });
    await assert.rejects(resolveModelDir('tfjs-lens-test/silent', { progress: false }), (err: unknown) => err instanceof InvalidArgumentError && /HF_HUB_DOWNLOAD_TIMEOUT/.test(err.message));
  } finally {
    setEnv({ HF_HUB_DOWNLOAD_TIMEOUT: undefined });
  }
  for (const bad of [0, -1, Number.NaN, Infinity]) {
    await assert.rejects(resolveModelDir('tfjs-lens-test/silent', { progress: false, timeoutMs: bad }), InvalidArgumentError, String(bad));
  }
});

test('a download that stops mid-body fails after the idle timeout and leaves no snapshot link', async () => {
  await stallsWithin(5_000, /request to http:\/\/127\.0\.0\.1:\d+\/tfjs-lens-test\/stalled\/resolve\/[0-9a-f]{40}\/model\.safetensors stalled: no data for 0\.3 s/, () =>
    resolveModelDir('tfjs-lens-test/stalled', { progress: false, timeoutMs: 300 }),
  );
  const storage = join(cacheRoot(), 'models--tfjs-lens-test--stalled');
  await assert.rejects(lstat(join(storage, 'snapshots', hub.repos.get('tfjs-lens-test/stalled')!.sha, 'model.safetensors')), { code: 'ENOENT' });
  // The other requests of a download (info, config, size probes) finished well inside the short limit.
  const dir = await resolveModelDir('tfjs-lens-test/gpt2-tiny', { progress: false, timeoutMs: 2_000, cacheDir: join(workDir, 'short-timeout-cache') });
  await access(join(dir, 'model.safetensors'));
});

test('an explicit cacheDir is used instead of HF_HOME', async () => {
  const cacheDir = join(workDir, 'explicit-cache');
  const repo = hub.repos.get('tfjs-lens-test/gpt2-tiny')!;
  const dir = await resolveModelDir('tfjs-lens-test/gpt2-tiny', { cacheDir, progress: false });
  assert.equal(dir, join(cacheDir, 'models--tfjs-lens-test--gpt2-tiny', 'snapshots', repo.sha));
  setEnv({ HF_HUB_CACHE: cacheDir });
  try {
    const mark = hub.requests.length;
    assert.equal(await resolveModelDir('tfjs-lens-test/gpt2-tiny'), dir);
    assert.deepEqual(countSince(mark), []);
  } finally {
    setEnv({ HF_HUB_CACHE: undefined });
  }
});
