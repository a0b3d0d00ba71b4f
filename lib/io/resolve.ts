/**
 * Turns what a user typed (a local checkpoint directory or a hub id such as `openai-community/gpt2`) into a
 * local directory holding `config.json`, the safetensors weights and the tokenizer files.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, dirname } from 'node:path';
import { CheckpointError, HubDownloadError } from '../errors.js';
import { checkRevision, downloadModelSnapshot, expandHome, findCachedSnapshot, hubCacheDir, isOfflineEnv, type HubOptions } from './hub.js';

/** Options of `resolveModelDir`: revision, cache directory, offline mode, progress display, endpoint, token. */
export type ResolveOptions = HubOptions;

/**
 * Bare model names that the hub moved under an organisation. Other ids resolve as given.
 */
export const LEGACY_MODEL_IDS: Readonly<Record<string, string>> = {
  gpt2: 'openai-community/gpt2',
  'gpt2-medium': 'openai-community/gpt2-medium',
  'gpt2-large': 'openai-community/gpt2-large',
  'gpt2-xl': 'openai-community/gpt2-xl',
};

const REPO_PART = /^[A-Za-z0-9_.-]{1,96}$/;

/** True when `id` is a syntactically valid hub model id (`name` or `org/name`). */
export function isValidRepoId(id: string): boolean {
  const parts = id.split('/');
  if (parts.length > 2) return false;
  // `models/x`, `datasets/x`, … designate repository types (and are usually mistyped local paths).
  if (parts.length === 2 && /^(models?|datasets?|spaces?|buckets?|kernels?)$/.test(parts[0]!)) return false;
  return parts.every((p) => REPO_PART.test(p) && !p.includes('--') && !p.includes('..') && !/^[-.]|[-.]$/.test(p));
}

/** Maps a user-typed hub name to the repository id used for downloads (legacy GPT-2 names → openai-community/…). */
export function hubRepoId(name: string): string {
  return LEGACY_MODEL_IDS[name] ?? name;
}

/** True when `text` can only be meant as a filesystem path (absolute, `./`, `../`, `~`, backslashes, nested). */
function looksLikePath(text: string): boolean {
  return isAbsolute(text) || text.startsWith('.') || text.startsWith('~') || text.includes('\\') || text.split('/').length > 2 || text.endsWith('/');
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Why `text`, which is not an existing directory, is a mistyped local path rather than a hub id: it can only be
 * a path, or it is `folder/name` and `folder` is a directory here (`weights/nope`). Undefined for a hub id.
 */
async function pathReason(text: string): Promise<string | undefined> {
  if (looksLikePath(text)) return 'it is written as a path';
  const parts = text.split('/');
  if (parts.length === 2 && (await isDirectory(parts[0]!))) return `'${parts[0]}' is a local folder`;
  return undefined;
}

/** The CheckpointError for a local path that is not there: the nearest existing parent is named. */
async function missingDirectory(path: string, reason: string, code: string | undefined): Promise<CheckpointError> {
  let parent = dirname(path);
  while (parent !== dirname(parent) && !(await isDirectory(parent))) parent = dirname(parent);
  const what = code === 'EACCES' || code === 'EPERM' ? 'cannot be accessed (permission denied)' : 'does not exist';
  return new CheckpointError(
    `directory ${path} ${what} (not sent to the hub: ${reason})`,
    `check the path${parent !== dirname(parent) && !/^\.\.?$/.test(parent) && (await isDirectory(parent)) ? ` (${parent} exists)` : ''}; a hub id is 'owner/name', e.g. 'openai-community/gpt2'`,
  );
}

/**
 * Resolves a model to a local directory.
 *
 * - An existing directory is returned as is (`~/…` expanded to the home directory). A path that does not exist is a CheckpointError and never goes to
 *   the hub: anything written as a path (absolute, `./x`, `../x`, `~/x`, `a/b/c`, a trailing `/`, backslashes),
 *   and `folder/name` when `folder` is a directory here (`weights/nope`).
 * - Otherwise `dirOrName` is a hub id (`org/name`; the bare `gpt2`, `gpt2-medium`, `gpt2-large`, `gpt2-xl` map to
 *   `openai-community/…`). A complete snapshot already in the cache is returned without any network request;
 *   else `config.json`, the safetensors weights (single file, or index + shards) and the tokenizer /
 *   preprocessor files that exist are downloaded into the Python hub cache and the snapshot directory
 *   (`…/models--org--name/snapshots/{commit}`) is returned.
 * - Offline (`offline: true` or `HF_HUB_OFFLINE=1`) only the cache is used.
 *
 * @throws CheckpointError when a path-like argument does not exist, for an invalid hub id, or when the repository has no usable weights.
 * @throws HubDownloadError when offline and not cached, when the repository is missing, or on network failure.
 */
export async function resolveModelDir(dirOrName: string, opts: ResolveOptions = {}): Promise<string> {
  let statCode: string | undefined;
  const local = expandHome(dirOrName); // `~/models/x` given in code, where no shell expanded it
  try {
    const info = await stat(local);
    if (info.isDirectory()) return local;
    throw new CheckpointError(`${dirOrName} is a file, not a checkpoint directory`, 'pass the directory that holds config.json and the safetensors weights');
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    statCode = (err as { code?: string }).code;
  }
  const reason = dirOrName === '' ? undefined : await pathReason(dirOrName);
  if (reason !== undefined) throw await missingDirectory(dirOrName, reason, statCode);
  if (!isValidRepoId(dirOrName)) {
    throw new CheckpointError(
      `${dirOrName} is neither an existing directory nor a valid hub model id`,
      "pass a checkpoint directory, or a hub id such as 'openai-community/gpt2'",
    );
  }
  const repoId = hubRepoId(dirOrName);
  const revision = opts.revision ?? 'main';
  checkRevision(revision);
  const cacheDir = opts.cacheDir ?? hubCacheDir();
  const offline = opts.offline ?? isOfflineEnv();
  if (offline) {
    const cached = await findCachedSnapshot(repoId, revision, cacheDir);
    if (cached) return cached;
    throw new HubDownloadError(
      `model '${repoId}' (revision '${revision}') is not in the hub cache ${cacheDir}, and offline mode is on (${opts.offline ? 'offline: true' : 'HF_HUB_OFFLINE'})`,
      'download it once while online, unset HF_HUB_OFFLINE, or pass a local directory',
    );
  }
  if (!opts.refresh) {
    const cached = await findCachedSnapshot(repoId, revision, cacheDir, true);
    if (cached) return cached;
  }
  return downloadModelSnapshot(repoId, { ...opts, revision, cacheDir });
}
