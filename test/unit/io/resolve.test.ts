/**
 * Model resolution without a network: local directories, hub id validation and legacy names, cache and
 * endpoint environment variables, cache lookups on a hand-made Python cache layout, and offline errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile, symlink } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveModelDir, isValidRepoId, hubRepoId, LEGACY_MODEL_IDS } from '../../../lib/io/resolve.js';
import { findCachedSnapshot, hubCacheDir, hubEndpoint, hubToken, isOfflineEnv, repoFolderName, checkRevision, OPTIONAL_FILES } from '../../../lib/io/hub.js';
import { CheckpointError, HubDownloadError, InvalidArgumentError } from '../../../lib/errors.js';

const FIXTURE_DIR = fileURLToPath(new URL('../../../../test/fixtures/hf/gpt2-tiny', import.meta.url));
const COMMIT = 'a'.repeat(40);

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-lens-resolve-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes a snapshot the way huggingface_hub does: blobs plus relative symlinks, and refs/main. */
async function fakeCache(cacheDir: string, repoId: string, files: Record<string, string>): Promise<string> {
  const storage = join(cacheDir, repoFolderName(repoId));
  const snapshot = join(storage, 'snapshots', COMMIT);
  await mkdir(join(storage, 'blobs'), { recursive: true });
  await mkdir(snapshot, { recursive: true });
  await mkdir(join(storage, 'refs'), { recursive: true });
  await writeFile(join(storage, 'refs', 'main'), COMMIT);
  let i = 0;
  for (const [name, content] of Object.entries(files)) {
    const blob = join(storage, 'blobs', `blob${i++}`);
    await writeFile(blob, content);
    await symlink(relative(snapshot, blob), join(snapshot, name));
  }
  return snapshot;
}

test('an existing directory is returned as is, without touching the network', async () => {
  assert.equal(await resolveModelDir(FIXTURE_DIR), FIXTURE_DIR);
  const rel = relative(process.cwd(), FIXTURE_DIR);
  assert.equal(await resolveModelDir(rel), rel);
  // `~/…` in code (no shell to expand it) is the home directory.
  const savedHome = process.env.HOME;
  process.env.HOME = join(FIXTURE_DIR, '..'); // os.homedir() reads HOME on POSIX
  try {
    assert.equal(await resolveModelDir('~/gpt2-tiny'), FIXTURE_DIR);
    await assert.rejects(resolveModelDir('~/no-such-model', { offline: false, endpoint: 'http://127.0.0.1:9' }), /directory ~\/no-such-model does not exist/);
  } finally {
    if (savedHome === undefined) delete process.env.HOME;
    else process.env.HOME = savedHome;
  }
});

test('path-like arguments that do not exist, files and invalid ids raise CheckpointError', async () => {
  for (const arg of ['./no/such/dir', '/no/such/dir', '../nope', '~/nope', 'a/b/c', 'C:\\models\\gpt2', 'bad id', 'org--x/name', 'models/gpt2', '-gpt2', 'a..b', '']) {
    await assert.rejects(resolveModelDir(arg, { offline: false, endpoint: 'http://127.0.0.1:9' }), CheckpointError, arg);
  }
  await assert.rejects(resolveModelDir(join(FIXTURE_DIR, 'config.json')), (err: unknown) => err instanceof CheckpointError && /is a file/.test(err.message));
});

test('a mistyped local path says the directory does not exist and is never sent to the hub', async () => {
  // Port 9 refuses connections: a request to the hub would fail with HubDownloadError, not CheckpointError.
  const opts = { offline: false, endpoint: 'http://127.0.0.1:9', progress: false } as const;
  await withTempDir(async (dir) => {
    await mkdir(join(dir, 'weights'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      for (const arg of ['weights/nope', './x', '../y', join(dir, 'absent'), 'weights/nope/deeper', 'weights/nope/']) {
        await assert.rejects(resolveModelDir(arg, opts), (err: unknown) => {
          assert.ok(err instanceof CheckpointError, `${arg}: ${String(err)}`);
          assert.match(err.message, new RegExp(`^directory ${arg.replace(/[.\\/]/g, '\\$&')} does not exist \\(not sent to the hub`), arg);
          return true;
        });
      }
      await assert.rejects(resolveModelDir('weights/nope', opts), /'weights' is a local folder[\s\S]*hint: check the path \(weights exists\)/);
      // `owner/name` whose owner is no local folder is still a hub id.
      await assert.rejects(resolveModelDir('tfjs-lens-test/gpt2-tiny', opts), HubDownloadError);
    } finally {
      process.chdir(cwd);
    }
  });
});

test('hub ids: validation and the legacy GPT-2 names', () => {
  for (const ok of ['gpt2', 'openai-community/gpt2', 'google/vit-base-patch16-224', 'openai/whisper-tiny', 'bert-base-uncased', 'EleutherAI/pythia-70m', 'org/name.v2_x']) assert.ok(isValidRepoId(ok), ok);
  for (const bad of ['a/b/c', 'a b', 'a--b', '.a', 'a.', 'x/', '/x', 'datasets/x', 'n'.repeat(97)]) assert.ok(!isValidRepoId(bad), bad);
  assert.equal(hubRepoId('gpt2'), 'openai-community/gpt2');
  assert.equal(hubRepoId('gpt2-medium'), 'openai-community/gpt2-medium');
  assert.equal(hubRepoId('gpt2-large'), 'openai-community/gpt2-large');
  assert.equal(hubRepoId('gpt2-xl'), 'openai-community/gpt2-xl');
  assert.equal(hubRepoId('distilgpt2'), 'distilgpt2');
  assert.equal(hubRepoId('openai/whisper-tiny'), 'openai/whisper-tiny');
  assert.equal(Object.keys(LEGACY_MODEL_IDS).length, 4);
  assert.equal(repoFolderName('openai-community/gpt2'), 'models--openai-community--gpt2');
  assert.equal(repoFolderName('gpt2'), 'models--gpt2');
});

test('cache directory, endpoint and offline mode follow the huggingface_hub environment variables', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/a', HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c' }), '/a');
  assert.equal(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/b', HF_HOME: '/c' }), '/b');
  assert.equal(hubCacheDir({ HF_HOME: '/c', XDG_CACHE_HOME: '/d' }), '/c/hub');
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/d' }), '/d/huggingface/hub');
  assert.equal(hubCacheDir({}), join(homedir(), '.cache', 'huggingface', 'hub'));
  assert.equal(hubCacheDir({ HF_HOME: '~/hf' }), join(homedir(), 'hf', 'hub'));
  assert.equal(hubEndpoint({}), 'https://huggingface.co');
  assert.equal(hubEndpoint({ HF_ENDPOINT: 'https://hf-mirror.com/' }), 'https://hf-mirror.com');
  for (const on of ['1', 'true', 'TRUE', 'yes', 'on']) assert.ok(isOfflineEnv({ HF_HUB_OFFLINE: on }), on);
  for (const off of [undefined, '', '0', 'false', 'no']) assert.ok(!isOfflineEnv({ HF_HUB_OFFLINE: off }), String(off));
});

test('the token comes from HF_TOKEN, else from the token file', async () => {
  await withTempDir(async (dir) => {
    assert.equal(await hubToken({ HF_TOKEN: 'hf_env', HF_HOME: dir }), 'hf_env');
    assert.equal(await hubToken({ HF_HOME: dir }), undefined);
    await writeFile(join(dir, 'token'), 'hf_from_file\n');
    assert.equal(await hubToken({ HF_HOME: dir }), 'hf_from_file');
    await writeFile(join(dir, 'other-token'), 'hf_other');
    assert.equal(await hubToken({ HF_HOME: dir, HF_TOKEN_PATH: join(dir, 'other-token') }), 'hf_other');
  });
});

test('findCachedSnapshot reads refs and checks that config and weights are complete', async () => {
  await withTempDir(async (cacheDir) => {
    const single = await fakeCache(cacheDir, 'org/single', { 'config.json': '{}', 'model.safetensors': 'x' });
    assert.equal(await findCachedSnapshot('org/single', 'main', cacheDir), single);
    assert.equal(await findCachedSnapshot('org/single', COMMIT, cacheDir), single);
    assert.equal(await findCachedSnapshot('org/single', 'v2', cacheDir), undefined);
    // Complete lookups also need every optional file to be known (present, or marked in .no_exist).
    assert.equal(await findCachedSnapshot('org/single', 'main', cacheDir, true), undefined);
    const noExist = join(cacheDir, repoFolderName('org/single'), '.no_exist', COMMIT);
    await mkdir(noExist, { recursive: true });
    for (const f of OPTIONAL_FILES) await writeFile(join(noExist, f), '');
    assert.equal(await findCachedSnapshot('org/single', 'main', cacheDir, true), single);

    const index = JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } });
    await fakeCache(cacheDir, 'org/sharded', { 'config.json': '{}', 'model.safetensors.index.json': index, 'model-00001-of-00002.safetensors': 'x' });
    assert.equal(await findCachedSnapshot('org/sharded', 'main', cacheDir), undefined, 'a shard is missing');
    await fakeCache(cacheDir, 'org/no-config', { 'model.safetensors': 'x' });
    assert.equal(await findCachedSnapshot('org/no-config', 'main', cacheDir), undefined);
    assert.equal(await findCachedSnapshot('org/not-cached', 'main', cacheDir), undefined);
  });
});

test('offline mode without a cached snapshot raises HubDownloadError naming the repository', async () => {
  await withTempDir(async (cacheDir) => {
    await assert.rejects(resolveModelDir('gpt2-xl', { offline: true, cacheDir }), (err: unknown) => {
      assert.ok(err instanceof HubDownloadError);
      assert.match(err.message, /openai-community\/gpt2-xl/);
      assert.match(err.message, /offline/);
      assert.ok(err.message.includes(cacheDir));
      return true;
    });
    const snapshot = await fakeCache(cacheDir, 'openai-community/gpt2-xl', { 'config.json': '{}', 'model.safetensors': 'x' });
    assert.equal(await resolveModelDir('gpt2-xl', { offline: true, cacheDir }), snapshot);
  });
});

test('revisions must be safe cache paths', () => {
  for (const ok of ['main', 'v1.0', 'refs/pr/3', COMMIT]) checkRevision(ok);
  for (const bad of ['../x', '/abs', 'a/../b', '', 'a\\b']) assert.throws(() => checkRevision(bad), InvalidArgumentError, bad);
});
