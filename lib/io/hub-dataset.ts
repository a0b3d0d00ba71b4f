/**
 * Files and folders of Hugging Face dataset repositories, addressed as `huggingface_hub`'s `HfFileSystem`
 * (and pandas, polars, DuckDB) address them:
 *
 *     hf://datasets/{owner}/{name}[@{revision}][/{path}]
 *
 * `revision` is a branch, tag or commit hash (default `main`); one with slashes is written percent-encoded
 * (`@refs%2Fconvert%2Fparquet`), except `refs/convert/parquet` (the hub's parquet conversion of every public
 * dataset) and `refs/pr/N`, which may be written as they are. `path` names a file or a folder (all of it is
 * downloaded); without it the whole repository is.
 *
 * Downloads go through the same hub code as models (`HF_ENDPOINT`, `HF_TOKEN`, `HF_HUB_OFFLINE`, idle timeout,
 * typed errors) into the Python cache layout (`datasets--{owner}--{name}/snapshots/{commit}/…`), so the file
 * `datasets.load_dataset` / `hf_hub_download(repo_type="dataset")` fetched is found here and vice versa.
 */
import { readFile, writeFile, mkdir, stat } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { HubDownloadError, InvalidArgumentError } from '../errors.js';
import { asHubError, COMMIT_HASH, hubCacheDir, isOfflineEnv, isSafeRelativePath, openHubSession, repoFolderName, withoutDebugLog, type HubOptions } from './hub.js';

/** The URL scheme of hub dataset addresses. */
export const HUB_DATASET_PREFIX = 'hf://datasets/';

/** A parsed `hf://datasets/…` address. */
export interface HubDatasetAddress {
  /** `owner/name`. */
  repoId: string;
  /** Branch, tag or commit hash (decoded: `refs/convert/parquet`). */
  revision: string;
  /** Path inside the repository; `''` for the whole repository. */
  path: string;
}

/** Revisions with slashes that may be written without percent-encoding (as `HfFileSystem` accepts them). */
const SPECIAL_REVISION = /^(refs\/convert\/parquet|refs\/pr\/\d+)(?=\/|$)/;
const REPO_PART = /^[A-Za-z0-9_.-]{1,96}$/;

/** True when `text` is a hub dataset address (`hf://datasets/…`) rather than a local path. */
export function isHubDatasetAddress(text: string): boolean {
  return text.startsWith(HUB_DATASET_PREFIX);
}

function badAddress(address: string, problem: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `hub dataset address '${address}' ${problem}`,
    "write hf://datasets/OWNER/NAME[@REVISION][/PATH], e.g. hf://datasets/Salesforce/wikitext@refs/convert/parquet/wikitext-2-raw-v1/test/0000.parquet",
  );
}

/**
 * Parses `hf://datasets/{owner}/{name}[@{revision}][/{path}]`.
 * @throws InvalidArgumentError for another scheme, a repository id that is not `owner/name`, an empty or
 *   unsafe revision, or a path with `..`, `.`, empty parts or backslashes.
 */
export function parseHubDatasetAddress(address: string): HubDatasetAddress {
  if (!isHubDatasetAddress(address)) throw badAddress(address, `does not start with ${HUB_DATASET_PREFIX}`);
  const rest = address.slice(HUB_DATASET_PREFIX.length).replace(/\/+$/, '');
  const parts = rest.split('/');
  if (parts.length < 2) throw badAddress(address, 'names no repository (owner/name)');
  const owner = parts[0]!;
  const at = parts[1]!.indexOf('@');
  const name = at < 0 ? parts[1]! : parts[1]!.slice(0, at);
  for (const part of [owner, name]) {
    if (!REPO_PART.test(part) || part.includes('--') || part.includes('..') || /^[-.]|[-.]$/.test(part)) throw badAddress(address, `has an invalid repository id '${owner}/${name}'`);
  }
  let revision = 'main';
  let pathParts = parts.slice(2);
  if (at >= 0) {
    const afterAt = [parts[1]!.slice(at + 1), ...parts.slice(2)].join('/');
    const special = SPECIAL_REVISION.exec(afterAt);
    const raw = special ? special[1]! : afterAt.split('/')[0]!;
    try {
      revision = decodeURIComponent(raw);
    } catch {
      throw badAddress(address, `has a revision '${raw}' that is not valid percent-encoding`);
    }
    if (!revision || !isSafeRelativePath(revision) || revision.length > 256) throw badAddress(address, `has an invalid revision '${revision}'`);
    pathParts = afterAt.slice(raw.length).split('/').filter((p, i) => i > 0 || p !== '');
  }
  const path = pathParts.join('/');
  if (path && !isSafeRelativePath(path)) throw badAddress(address, `has an invalid path '${path}' (no '..', '.', empty parts or backslashes)`);
  return { repoId: `${owner}/${name}`, revision, path };
}

async function kindOf(path: string): Promise<'file' | 'directory' | undefined> {
  try {
    const info = await stat(path); // follows snapshot symlinks: a dangling link is nothing
    return info.isFile() ? 'file' : info.isDirectory() ? 'directory' : undefined;
  } catch {
    return undefined;
  }
}

/** The commit a revision resolved to when it was last downloaded (`refs/{revision}`), or the hash itself. */
async function cachedCommit(storage: string, revision: string): Promise<string | undefined> {
  if (COMMIT_HASH.test(revision)) return revision;
  try {
    const commit = (await readFile(join(storage, 'refs', revision), 'utf8')).trim();
    return COMMIT_HASH.test(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Looks a dataset file or folder up in the hub cache without any network access.
 * @returns the local path (`…/snapshots/{commit}/{path}`), or undefined when the cache does not have it.
 */
export async function findCachedDatasetPath(address: HubDatasetAddress, cacheDir: string = hubCacheDir()): Promise<string | undefined> {
  const storage = join(cacheDir, repoFolderName(address.repoId, 'dataset'));
  const commit = await cachedCommit(storage, address.revision);
  if (!commit) return undefined;
  const local = join(storage, 'snapshots', commit, address.path);
  return (await kindOf(local)) ? local : undefined;
}

/**
 * Resolves a hub dataset address to a local file or folder, downloading what the cache lacks.
 *
 * - A file already cached for the revision is returned without any request (unless `refresh`); so is a
 *   folder in offline mode (`offline: true` or `HF_HUB_OFFLINE=1`, where only the cache is used).
 * - Otherwise the revision is resolved to its commit (`/api/datasets/{repo}/revision/{revision}`), the path is
 *   looked up (`paths-info`), and the file — or every file under the folder (`tree`, recursive) — is
 *   downloaded into the Python cache unless already there. `refs/{revision}` records the commit.
 *
 * @returns `…/datasets--{owner}--{name}/snapshots/{commit}/{path}` (a file, or a folder for a folder / no path).
 * @throws InvalidArgumentError for a malformed address.
 * @throws HubDownloadError offline without a cached copy, for a missing repository, revision or path
 *   (HTTP 401/403/404), on network failure or a stalled server.
 */
export async function resolveHubDataset(address: string, opts: HubOptions = {}): Promise<string> {
  const parsed = parseHubDatasetAddress(address);
  const { repoId, path } = parsed;
  const revision = opts.revision ?? parsed.revision;
  const cacheDir = opts.cacheDir ?? hubCacheDir();
  const storage = join(cacheDir, repoFolderName(repoId, 'dataset'));
  const cached = await findCachedDatasetPath({ repoId, revision, path }, cacheDir);
  if (opts.offline ?? isOfflineEnv()) {
    if (cached) return cached;
    throw new HubDownloadError(
      `dataset ${address} (revision '${revision}') is not in the hub cache ${cacheDir}, and offline mode is on (${opts.offline ? 'offline: true' : 'HF_HUB_OFFLINE'})`,
      'download it once while online, unset HF_HUB_OFFLINE, or pass a local file',
    );
  }
  if (cached && !opts.refresh && (await kindOf(cached)) === 'file') return cached;

  const { endpoint, hub, sink, fetchImpl, track } = await openHubSession(opts);
  let currentFile: string | undefined;
  track(() => currentFile);
  const repo = { type: 'dataset' as const, name: repoId };
  const infoUrl = `${endpoint}/api/datasets/${repoId}/revision/${encodeURIComponent(revision)}`;
  try {
    let commit: unknown;
    try {
      commit = ((await hub.datasetInfo({ name: repoId, revision, hubUrl: endpoint, additionalFields: ['sha'], fetch: fetchImpl })) as { sha?: unknown }).sha;
    } catch (err) {
      throw asHubError(err, `datasets/${repoId}`, revision, infoUrl, hub.HubApiError);
    }
    if (typeof commit !== 'string' || !COMMIT_HASH.test(commit)) {
      throw new HubDownloadError(`${infoUrl} answered without a commit hash for dataset '${repoId}' (got ${JSON.stringify(commit)})`, 'is HF_ENDPOINT a Hugging Face hub?');
    }
    const treeUrl = `${endpoint}/api/datasets/${repoId}/tree/${commit}/${path}`;
    let files: string[];
    let kind: string | undefined = path ? undefined : 'directory';
    try {
      if (path) kind = (await hub.pathsInfo({ repo, paths: [path], revision: commit, hubUrl: endpoint, fetch: fetchImpl }))[0]?.type;
      if (kind === 'file') {
        files = [path];
      } else if (kind === 'directory') {
        files = [];
        for await (const entry of hub.listFiles({ repo, path: path || undefined, recursive: true, revision: commit, hubUrl: endpoint, fetch: fetchImpl })) {
          if (entry.type === 'file') files.push(entry.path);
        }
      } else {
        throw new HubDownloadError(`dataset '${repoId}' (revision '${revision}', commit ${commit}) has no file or folder '${path}'`, `list the repository's files at ${endpoint}/datasets/${repoId}/tree/${encodeURIComponent(revision)}`);
      }
    } catch (err) {
      throw asHubError(err, `datasets/${repoId}`, revision, treeUrl, hub.HubApiError);
    }
    if (kind === 'directory' && files.length === 0) throw new HubDownloadError(`dataset folder ${address} (commit ${commit}) holds no files`);
    for (const file of files) {
      if (!isSafeRelativePath(file)) throw new HubDownloadError(`dataset '${repoId}' lists a file '${file}' that is not a safe relative path`);
      currentFile = file;
      try {
        await withoutDebugLog(() => hub.downloadFileToCacheDir({ repo, path: file, revision: commit as string, hubUrl: endpoint, cacheDir, fetch: fetchImpl }));
      } catch (err) {
        throw asHubError(err, `datasets/${repoId}`, revision, `${endpoint}/datasets/${repoId}/resolve/${commit}/${file}`, hub.HubApiError);
      } finally {
        currentFile = undefined;
      }
    }
    if (revision !== commit) {
      const ref = join(storage, 'refs', revision);
      await mkdir(dirname(ref), { recursive: true });
      await writeFile(ref, commit);
    }
    return join(storage, 'snapshots', commit, path);
  } finally {
    sink?.finish();
  }
}
