/**
 * Hugging Face Hub downloads into the standard Python cache (`huggingface_hub` layout), so that Python and
 * tfjs-lens share one copy of every checkpoint:
 *
 *     $HF_HUB_CACHE/models--{org}--{name}/
 *       blobs/{etag}                       file contents (git blob sha1, or sha256 for LFS files)
 *       snapshots/{commit}/{file} → ../../blobs/{etag}
 *       refs/{revision}                    commit hash the revision (branch / tag) resolved to
 *       .no_exist/{commit}/{file}          optional files known to be absent at that commit
 *
 * Downloads use `@huggingface/hub` (`modelInfo`, `downloadFileToCacheDir`), fetched only when the cache cannot
 * answer. Only the files a model needs are fetched: `config.json`, `model.safetensors` (or the shard index and
 * its shards) and the tokenizer / preprocessor files that exist. Environment: `HF_ENDPOINT`, `HF_TOKEN`,
 * `HF_HUB_CACHE` / `HF_HOME`, `HF_HUB_OFFLINE`, `HF_HUB_DISABLE_PROGRESS_BARS`, `HF_HUB_DOWNLOAD_TIMEOUT`.
 * Every request has an idle timeout: a server that stalls (no response, or a body that stops) fails with
 * HubDownloadError instead of blocking.
 */
import { readFile, writeFile, mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, dirname, isAbsolute } from 'node:path';
import { CheckpointError, HubDownloadError, InvalidArgumentError, TfjsLensError } from '../errors.js';

/** Default idle timeout of a hub request, in milliseconds (`timeoutMs`, `HF_HUB_DOWNLOAD_TIMEOUT`). */
export const DEFAULT_HUB_TIMEOUT_MS = 30_000;

/** Default hub endpoint. */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/** Files every model snapshot needs besides its weights. */
export const REQUIRED_FILES: readonly string[] = ['config.json'];

/** Single-file weights and the shard index used when there is no single file. */
export const WEIGHTS_FILE = 'model.safetensors';
/** Shard index of a sharded checkpoint (`weight_map`: tensor name → shard file). */
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

/** Tokenizer and preprocessing files downloaded when the repository has them. */
export const OPTIONAL_FILES: readonly string[] = [
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.json',
  'merges.txt',
  'vocab.txt',
  'special_tokens_map.json',
  'preprocessor_config.json',
  'generation_config.json',
];

/** A full git commit hash (what a revision resolves to). */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** One progress report of a file download. */
export interface DownloadProgress {
  /** Path of the file in the repository. */
  file: string;
  /** Bytes received so far. */
  bytes: number;
  /** Total bytes when the server said (`content-length`). */
  total: number | undefined;
  /** True on the last report of this file. */
  done: boolean;
}

/** Options shared by hub downloads and cache lookups. */
export interface HubOptions {
  /** Branch, tag or commit hash (default `'main'`). */
  revision?: string;
  /** Hub cache directory (default `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`). */
  cacheDir?: string;
  /** Use only the cache, never the network (default: `HF_HUB_OFFLINE` is set to 1/true/yes/on). */
  offline?: boolean;
  /**
   * Progress display: `true` (default) draws a cli-progress bar on stderr when stderr is a TTY and
   * `HF_HUB_DISABLE_PROGRESS_BARS` is unset; `false` is silent; a function receives every report instead.
   */
  progress?: boolean | ((event: DownloadProgress) => void);
  /** Hub endpoint (default `$HF_ENDPOINT`, else https://huggingface.co). */
  endpoint?: string;
  /** Access token (default `$HF_TOKEN`, else the token file `huggingface-cli login` writes). */
  token?: string;
  /** Ask the hub for the revision's current commit even when the cache already holds a complete snapshot. */
  refresh?: boolean;
  /**
   * Idle timeout of every hub request in milliseconds: the longest wait for a response, and for each next part
   * of a body being read (a large download may take longer as long as data keeps coming). Default
   * `$HF_HUB_DOWNLOAD_TIMEOUT` seconds (the `huggingface_hub` variable), else 30 s.
   */
  timeoutMs?: number;
}

type Env = Record<string, string | undefined>;

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.trim().toUpperCase());
}

/** `~` and `~/…` → the home directory (as a shell would expand them); other paths as they are. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface` (as `huggingface_hub` resolves it). */
export function hfHome(env: Env = process.env): string {
  if (env.HF_HOME) return expandHome(env.HF_HOME);
  return join(env.XDG_CACHE_HOME ? expandHome(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'huggingface');
}

/** The hub cache directory: `$HF_HUB_CACHE`, `$HUGGINGFACE_HUB_CACHE`, else `hfHome()/hub`. */
export function hubCacheDir(env: Env = process.env): string {
  const explicit = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  return explicit ? expandHome(explicit) : join(hfHome(env), 'hub');
}

/** The hub endpoint without a trailing slash: `$HF_ENDPOINT` or https://huggingface.co. */
export function hubEndpoint(env: Env = process.env): string {
  return (env.HF_ENDPOINT || DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
}

/** True when `HF_HUB_OFFLINE` asks for cache-only operation. */
export function isOfflineEnv(env: Env = process.env): boolean {
  return isTrue(env.HF_HUB_OFFLINE);
}

/**
 * The idle timeout of hub requests in milliseconds: `timeoutMs`, else `$HF_HUB_DOWNLOAD_TIMEOUT` (seconds),
 * else `DEFAULT_HUB_TIMEOUT_MS`.
 * @throws InvalidArgumentError when either is not a positive number.
 */
export function hubTimeoutMs(timeoutMs: number | undefined, env: Env = process.env): number {
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new InvalidArgumentError(`hub timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`, `e.g. { timeoutMs: ${DEFAULT_HUB_TIMEOUT_MS} }`);
    }
    return timeoutMs;
  }
  const raw = env.HF_HUB_DOWNLOAD_TIMEOUT?.trim();
  if (!raw) return DEFAULT_HUB_TIMEOUT_MS;
  const seconds = Number(raw);
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new InvalidArgumentError(`HF_HUB_DOWNLOAD_TIMEOUT must be a positive number of seconds, got '${raw}'`, `unset it (default ${DEFAULT_HUB_TIMEOUT_MS / 1000} s) or set e.g. HF_HUB_DOWNLOAD_TIMEOUT=60`);
  }
  return seconds * 1000;
}

/** The access token: `$HF_TOKEN`, `$HUGGING_FACE_HUB_TOKEN`, else the file `$HF_TOKEN_PATH` / `hfHome()/token`. */
export async function hubToken(env: Env = process.env): Promise<string | undefined> {
  const fromEnv = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  try {
    const fromFile = (await readFile(env.HF_TOKEN_PATH ? expandHome(env.HF_TOKEN_PATH) : join(hfHome(env), 'token'), 'utf8')).trim();
    return fromFile || undefined;
  } catch {
    return undefined;
  }
}

/** Cache folder of a repository: `models--org--name` (`datasets--org--name` for a dataset). */
export function repoFolderName(repoId: string, type: 'model' | 'dataset' = 'model'): string {
  return [`${type}s`, ...repoId.split('/')].join('--');
}

/** True for a relative path that stays inside its folder (no absolute path, no `..`, no backslash). */
export function isSafeRelativePath(path: string): boolean {
  if (!path || isAbsolute(path) || path.includes('\\')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile(); // follows the snapshot symlink: a dangling link is not a file
  } catch {
    return false;
  }
}

/** Shard files named by a `model.safetensors.index.json`. */
async function shardFiles(indexPath: string, what: string): Promise<string[]> {
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(await readFile(indexPath, 'utf8')) as { weight_map?: unknown })?.weight_map;
  } catch (err) {
    throw new CheckpointError(`${what}: ${WEIGHTS_INDEX_FILE} is not valid JSON (${(err as Error).message})`, 'delete the cached file and download it again');
  }
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
    throw new CheckpointError(`${what}: ${WEIGHTS_INDEX_FILE} has no weight_map object`);
  }
  const shards = new Set<string>();
  for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || !isSafeRelativePath(shard)) {
      throw new CheckpointError(`${what}: ${WEIGHTS_INDEX_FILE} maps '${name}' to ${JSON.stringify(shard)}, which is not a file of the repository`);
    }
    shards.add(shard);
  }
  return [...shards];
}

/**
 * Looks a revision up in the cache without any network access.
 * @param complete also require that every optional file is known (present, or recorded in `.no_exist`).
 * @returns the snapshot directory when it holds `config.json` and complete weights, else undefined.
 */
export async function findCachedSnapshot(repoId: string, revision: string, cacheDir: string, complete = false): Promise<string | undefined> {
  const storage = join(cacheDir, repoFolderName(repoId));
  let commit: string | undefined = revision;
  if (!COMMIT_HASH.test(revision)) {
    try {
      commit = (await readFile(join(storage, 'refs', revision), 'utf8')).trim();
    } catch {
      return undefined;
    }
    if (!COMMIT_HASH.test(commit)) return undefined;
  }
  const snapshot = join(storage, 'snapshots', commit);
  for (const file of REQUIRED_FILES) if (!(await isFile(join(snapshot, file)))) return undefined;
  if (!(await isFile(join(snapshot, WEIGHTS_FILE)))) {
    if (!(await isFile(join(snapshot, WEIGHTS_INDEX_FILE)))) return undefined;
    let shards: string[];
    try {
      shards = await shardFiles(join(snapshot, WEIGHTS_INDEX_FILE), repoId);
    } catch {
      return undefined;
    }
    for (const shard of shards) if (!(await isFile(join(snapshot, shard)))) return undefined;
  }
  if (complete) {
    for (const file of OPTIONAL_FILES) {
      if (!(await isFile(join(snapshot, file))) && !(await isFile(join(storage, '.no_exist', commit, file)))) return undefined;
    }
  }
  return snapshot;
}

/** Receives download progress; `finish` ends the display. */
export interface ProgressSink {
  report(event: DownloadProgress): void;
  finish(): void;
}

function formatMb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

async function progressSink(option: HubOptions['progress']): Promise<ProgressSink | undefined> {
  if (typeof option === 'function') return { report: option, finish: () => {} };
  if (option === false || !process.stderr.isTTY || isTrue(process.env.HF_HUB_DISABLE_PROGRESS_BARS)) return undefined;
  const { SingleBar } = (await import('cli-progress')).default;
  let bar: InstanceType<typeof SingleBar> | undefined;
  return {
    report(event) {
      const payload = { file: event.file, got: formatMb(event.bytes), size: event.total === undefined ? '?' : formatMb(event.total) };
      if (!bar) {
        bar = new SingleBar({ format: ' {file} [{bar}] {percentage}% | {got}/{size} MB', stream: process.stderr, hideCursor: true, fps: 10 });
        bar.start(event.total ?? Math.max(event.bytes, 1), event.bytes, payload);
      }
      if (event.total === undefined) bar.setTotal(Math.max(event.bytes, 1));
      bar.update(event.bytes, payload);
      if (event.done) {
        bar.stop();
        bar = undefined;
      }
    },
    finish() {
      bar?.stop();
      bar = undefined;
    },
  };
}

function describeFailure(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const reason = cause?.code ?? cause?.message;
  const message = err instanceof Error ? err.message : String(err);
  return reason && !message.includes(reason) ? `${message} (${reason})` : message;
}

/**
 * Runs one request with an idle timeout: the response must start within `timeoutMs`, and each read of its body
 * must deliver within `timeoutMs` (the clock runs only while the reader waits on the network, so a body that is
 * never read costs nothing). On a stall the request is aborted and a HubDownloadError names the URL.
 */
async function fetchWithIdleTimeout(input: Parameters<typeof fetch>[0], init: RequestInit, url: string, timeoutMs: number): Promise<Response> {
  const controller = new AbortController();
  const outer = init.signal;
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
  const stalled = (phase: string) =>
    new HubDownloadError(
      `request to ${url} stalled: ${phase} for ${timeoutMs / 1000} s`,
      'the server accepted the request but stopped answering; try again, or raise the limit with the timeoutMs option or HF_HUB_DOWNLOAD_TIMEOUT (seconds)',
    );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (phase: string) => {
    timer = setTimeout(() => controller.abort(stalled(phase)), timeoutMs);
  };
  const abortReason = () => (controller.signal.aborted && controller.signal.reason instanceof HubDownloadError ? controller.signal.reason : undefined);
  let response: Response;
  arm('no response');
  try {
    response = await fetch(input, { ...init, signal: controller.signal });
  } catch (err) {
    throw abortReason() ?? new HubDownloadError(`request to ${url} failed: ${describeFailure(err)}`);
  } finally {
    clearTimeout(timer);
  }
  // Statuses that carry no body cannot be rebuilt with one.
  if (!response.body || [101, 103, 204, 205, 304].includes(response.status)) return response;
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(out) {
      arm('no data');
      try {
        const { done, value } = await reader.read();
        if (done) out.close();
        else out.enqueue(value);
      } catch (err) {
        out.error(abortReason() ?? new HubDownloadError(`download from ${url} failed: ${describeFailure(err)}`));
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      clearTimeout(timer);
      return reader.cancel(reason);
    },
  });
  return rewrap(response, body);
}

/** `response` with another body; `url` and `redirected` (which a constructed Response lacks) are kept. */
function rewrap(response: Response, body: ReadableStream<Uint8Array>): Response {
  const wrapped = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  Object.defineProperty(wrapped, 'url', { value: response.url });
  Object.defineProperty(wrapped, 'redirected', { value: response.redirected });
  return wrapped;
}

/**
 * A `fetch` for `@huggingface/hub` that adds the token to requests to the hub's own origin only, bounds every
 * request by an idle timeout, turns network failures into HubDownloadError naming the URL, and reports the
 * bytes of file downloads.
 */
function hubFetch(endpoint: string, token: string | undefined, sink: ProgressSink | undefined, currentFile: () => string | undefined, timeoutMs: number): typeof fetch {
  const hubOrigin = new URL(endpoint).origin;
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (token && !headers.has('authorization') && new URL(url).origin === hubOrigin) headers.set('Authorization', `Bearer ${token}`);
    const response = await fetchWithIdleTimeout(input, { ...init, headers }, url.split('?')[0]!, timeoutMs);
    // The content download is the one GET without a Range header made while a file is being fetched (the
    // size probe asks for `bytes=0-0`, paths-info is a POST); it may go to a CDN URL after a redirect.
    const file = currentFile();
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (!sink || file === undefined || method !== 'GET' || headers.has('range') || !response.ok || !response.body) return response;
    const length = Number(response.headers.get('content-length'));
    const total = Number.isFinite(length) && length > 0 ? length : undefined;
    let bytes = 0;
    sink.report({ file, bytes, total, done: false });
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        sink.report({ file, bytes, total, done: false });
        controller.enqueue(chunk);
      },
      flush() {
        sink.report({ file, bytes, total: total ?? bytes, done: true });
      },
    });
    return rewrap(response, response.body.pipeThrough(counter));
  };
}

// `downloadFileToCacheDir` logs every download with console.debug (stdout); silence it while we call it.
let quietDepth = 0;
let savedDebug: typeof console.debug = console.debug;
export async function withoutDebugLog<T>(fn: () => Promise<T>): Promise<T> {
  if (quietDepth++ === 0) {
    savedDebug = console.debug;
    console.debug = () => {};
  }
  try {
    return await fn();
  } finally {
    if (--quietDepth === 0) console.debug = savedDebug;
  }
}

/** Turns anything a download threw into a HubDownloadError that names the repository, the URL and the reason. */
export function asHubError(err: unknown, repoId: string, revision: string, url: string, HubApiError: new (...args: never[]) => Error): TfjsLensError {
  if (err instanceof TfjsLensError) return err;
  if (err instanceof HubApiError) {
    const status = (err as unknown as { statusCode: number }).statusCode;
    const reason = describeFailure(err).replace(/\.? URL: [\s\S]*$/, ''); // the URL is named once, below
    if (status === 401 || status === 403 || status === 404) {
      return new HubDownloadError(
        `repository '${repoId}' (revision '${revision}') was not found or is not accessible: HTTP ${status} from ${url}: ${reason}`,
        'check the name and the revision; private and gated repositories need HF_TOKEN (and accepted terms)',
      );
    }
    return new HubDownloadError(`download from ${url} failed with HTTP ${status}: ${reason}`);
  }
  return new HubDownloadError(`download from ${url} failed: ${describeFailure(err).replace(/\.? URL: [\s\S]*$/, '')}`);
}

/** What one series of hub requests shares: endpoint, the `@huggingface/hub` module, progress display and `fetch`. */
export interface HubSession {
  endpoint: string;
  hub: typeof import('@huggingface/hub');
  sink: ProgressSink | undefined;
  /** Adds the token, the idle timeout, typed network errors and progress reports of the current file. */
  fetchImpl: typeof fetch;
  /** Sets where `fetchImpl` learns which file is being downloaded (for progress reports). */
  track(currentFile: () => string | undefined): void;
}

/**
 * Checks the endpoint, token and timeout of `opts` (else the environment) and prepares the requests.
 * @throws InvalidArgumentError for an endpoint that is not http(s) or a bad timeout.
 */
export async function openHubSession(opts: HubOptions): Promise<HubSession> {
  const endpoint = (opts.endpoint ?? hubEndpoint()).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(endpoint)) throw new InvalidArgumentError(`hub endpoint '${endpoint}' is not an http(s) URL`, 'set HF_ENDPOINT to e.g. https://huggingface.co');
  const token = opts.token ?? (await hubToken());
  const timeoutMs = hubTimeoutMs(opts.timeoutMs);
  const hub = await import('@huggingface/hub');
  const sink = await progressSink(opts.progress);
  let current: () => string | undefined = () => undefined;
  const fetchImpl = hubFetch(endpoint, token, sink, () => current(), timeoutMs);
  return { endpoint, hub, sink, fetchImpl, track: (fn) => (current = fn) };
}

/**
 * Downloads what a model needs from the hub into the cache and returns the snapshot directory
 * (`…/models--org--name/snapshots/{commit}`). Files already in the cache are not fetched again.
 * @throws HubDownloadError when the hub cannot be reached or the repository / revision does not exist.
 * @throws CheckpointError when the repository has no config.json or no safetensors weights.
 */
export async function downloadModelSnapshot(repoId: string, opts: HubOptions = {}): Promise<string> {
  const revision = opts.revision ?? 'main';
  const cacheDir = opts.cacheDir ?? hubCacheDir();
  const { endpoint, hub, sink, fetchImpl, track } = await openHubSession(opts);
  let currentFile: string | undefined;
  track(() => currentFile);
  const storage = join(cacheDir, repoFolderName(repoId));
  const infoUrl = `${endpoint}/api/models/${repoId}/revision/${encodeURIComponent(revision)}`;
  try {
    let info: { sha?: string; filePaths?: string[] };
    try {
      info = await hub.modelInfo({ name: repoId, revision, hubUrl: endpoint, additionalFields: ['sha', 'filePaths'], fetch: fetchImpl });
    } catch (err) {
      throw asHubError(err, repoId, revision, infoUrl, hub.HubApiError);
    }
    const commit = info.sha;
    if (typeof commit !== 'string' || !COMMIT_HASH.test(commit)) {
      throw new HubDownloadError(`${infoUrl} answered without a commit hash for '${repoId}' (got ${JSON.stringify(commit)})`, 'is HF_ENDPOINT a Hugging Face hub?');
    }
    const available = new Set(info.filePaths ?? []);
    const what = `${repoId}@${revision}`;
    for (const file of REQUIRED_FILES) {
      if (!available.has(file)) throw new CheckpointError(`hub repository ${what} has no ${file}`, 'is this a transformers model repository?');
    }
    const sharded = !available.has(WEIGHTS_FILE);
    if (sharded && !available.has(WEIGHTS_INDEX_FILE)) {
      const others = [...available].filter((f) => /\.(bin|pt|pth|h5|msgpack|ckpt|onnx)$/.test(f));
      throw new CheckpointError(
        `hub repository ${what} has no ${WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}${others.length ? ` (only ${others.slice(0, 4).join(', ')})` : ''}`,
        'tfjs-lens reads safetensors weights only: pick a revision with safetensors (e.g. a refs/pr/N conversion) or convert the checkpoint',
      );
    }
    const snapshot = join(storage, 'snapshots', commit);
    const fetchFile = async (path: string): Promise<string> => {
      const url = `${endpoint}/${repoId}/resolve/${commit}/${path}`;
      currentFile = path;
      try {
        return await withoutDebugLog(() => hub.downloadFileToCacheDir({ repo: repoId, path, revision: commit, hubUrl: endpoint, cacheDir, fetch: fetchImpl }));
      } catch (err) {
        throw asHubError(err, repoId, revision, url, hub.HubApiError);
      } finally {
        currentFile = undefined;
      }
    };
    for (const file of REQUIRED_FILES) await fetchFile(file);
    if (sharded) {
      const index = await fetchFile(WEIGHTS_INDEX_FILE);
      for (const shard of await shardFiles(index, what)) {
        if (!available.has(shard)) throw new CheckpointError(`hub repository ${what}: shard ${shard} listed in ${WEIGHTS_INDEX_FILE} is not in the repository`);
        await fetchFile(shard);
      }
    } else {
      await fetchFile(WEIGHTS_FILE);
    }
    for (const file of OPTIONAL_FILES) {
      if (available.has(file)) {
        await fetchFile(file);
      } else {
        // Python's marker for "known to be absent at this commit", so later lookups need no network.
        const marker = join(storage, '.no_exist', commit, file);
        await mkdir(dirname(marker), { recursive: true });
        await writeFile(marker, '');
      }
    }
    if (revision !== commit) {
      const ref = join(storage, 'refs', revision);
      await mkdir(dirname(ref), { recursive: true });
      await writeFile(ref, commit);
    }
    return snapshot;
  } finally {
    sink?.finish();
  }
}

/** Throws unless `revision` is usable as a cache path (`main`, `v1.0`, `refs/pr/3`, a commit hash). */
export function checkRevision(revision: string): void {
  if (!isSafeRelativePath(revision) || revision.length > 256) {
    throw new InvalidArgumentError(`invalid revision '${revision}'`, "use a branch, tag or commit hash such as 'main'");
  }
}
