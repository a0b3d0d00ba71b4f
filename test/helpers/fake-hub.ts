/**
 * A loopback HTTP server that answers the endpoints `@huggingface/hub` calls, the way huggingface.co does, for
 * model and dataset repositories (`/api/{models|datasets}/{repo}/revision/{rev}`, `/paths-info/{rev}`,
 * `/tree/{rev}/{path}`, `/[datasets/]{repo}/resolve/{rev}/{file}` with ETag / X-Repo-Commit / Content-Range, LFS
 * files redirected to a CDN path). Every request is logged. Used by the hub integration tests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';

/** The token a private repository accepts. */
export const TOKEN = 'test-token-123';

/** One file of a fake repository. */
export interface RepoFile {
  bytes: Buffer;
  /** git blob sha1 ("blob {size}\0" + bytes), as the hub reports for every file. */
  gitOid: string;
  /** sha256 of the contents for files stored with LFS (safetensors). */
  lfsOid?: string;
}

/** A fake repository: its `main` commit and files, other branches, and failures to simulate. */
export interface Repo {
  sha: string;
  files: Map<string, RepoFile>;
  /** Other revisions (`refs/convert/parquet`, tags): name → commit and files. */
  branches?: Map<string, { sha: string; files: Map<string, RepoFile> }>;
  private?: boolean;
  /** Paths whose download answers HTTP 500. */
  broken?: Set<string>;
  /** Paths whose download stops half-way (connection dropped). */
  truncated?: Set<string>;
  /** Paths whose download sends half the bytes, then nothing more (the connection stays open). */
  stalled?: Set<string>;
  /** The model-info request is accepted and never answered. */
  silent?: boolean;
}

/** A request the server received. */
export interface LoggedRequest {
  method: string;
  url: string;
  authorization?: string;
  range?: string;
  /** Request body of POSTs (paths-info names the files it asks about). */
  body?: string;
}

/** git blob sha1 of `bytes`. */
export const gitOid = (bytes: Buffer): string => createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
/** sha256 of `bytes` (LFS oid). */
export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
/** A made-up commit hash named after `name`. */
export const commitOf = (name: string): string => createHash('sha1').update(`commit of ${name}`).digest('hex');

/** A repository file with its oids (`lfs`: stored with LFS, served through the CDN redirect). */
export function repoFile(bytes: Buffer, lfs: boolean): RepoFile {
  return { bytes, gitOid: gitOid(bytes), lfsOid: lfs ? sha256(bytes) : undefined };
}

/** The key of a repository in `FakeHub.repos`: `org/name` for a model, `datasets/org/name` for a dataset. */
const key = (type: string, repoId: string): string => (type === 'datasets' ? `datasets/${repoId}` : repoId);

/** A loopback server answering like huggingface.co for a fixed set of repositories (datasets keyed `datasets/owner/name`). */
export class FakeHub {
  readonly requests: LoggedRequest[] = [];
  private server: Server | undefined;
  endpoint = '';

  constructor(readonly repos: Map<string, Repo>) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 10_000;
    this.server.keepAliveTimeout = 1_000;
    this.server.maxConnections = 64;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private restoreEnv: (() => void) | undefined;

  /**
   * Starts the server as this process's hub: the hub variables are cleared (`isolateHubEnv`: every fetch must
   * stay on 127.0.0.1), then `HF_HOME` = `hfHome` and `HF_ENDPOINT` = the server. `close()` undoes it.
   */
  async serve(hfHome: string): Promise<void> {
    this.restoreEnv = isolateHubEnv();
    await this.start();
    setEnv({ HF_HOME: hfHome, HF_ENDPOINT: this.endpoint });
  }

  /** Stops the server and puts back what `serve` changed. */
  async close(): Promise<void> {
    this.restoreEnv?.();
    this.restoreEnv = undefined;
    await this.stop();
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const bytes = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(bytes.byteLength), ...headers });
    res.end(bytes);
  }

  private repoError(res: ServerResponse): void {
    this.json(res, 404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound', 'X-Error-Message': 'Repository not found' });
  }

  /** Finds the repository and revision and checks the token; answers the error itself and returns undefined on failure. */
  private lookup(req: IncomingMessage, res: ServerResponse, repoId: string, revision: string): (Repo & { files: Map<string, RepoFile> }) | undefined {
    const repo = this.repos.get(repoId);
    if (!repo) return this.repoError(res), undefined;
    if (repo.private && req.headers.authorization !== `Bearer ${TOKEN}`) {
      this.json(res, 401, { error: 'Invalid username or password.' }, { 'X-Error-Code': 'RepoNotFound' });
      return undefined;
    }
    if (revision === 'main' || revision === 'HEAD' || revision === repo.sha) return repo;
    for (const [name, branch] of repo.branches ?? []) {
      if (revision === name || revision === branch.sha) return { ...repo, ...branch };
    }
    this.json(res, 404, { error: `Invalid rev id: ${revision}` }, { 'X-Error-Code': 'RevisionNotFound' });
    return undefined;
  }

  /** Folders holding the repository's files (`a/b/c.txt` → `a`, `a/b`). */
  private folders(files: Map<string, RepoFile>): Set<string> {
    const out = new Set<string>();
    for (const path of files.keys()) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) out.add(parts.slice(0, i).join('/'));
    }
    return out;
  }

  private pathInfo(path: string, file: RepoFile): Record<string, unknown> {
    return {
      type: 'file',
      path,
      oid: file.gitOid,
      size: file.bytes.byteLength,
      ...(file.lfsOid ? { lfs: { oid: file.lfsOid, size: file.bytes.byteLength, pointerSize: 134 } } : {}),
      // A file's last commit is usually older than the head commit; clients must not use it as the snapshot id.
      lastCommit: { id: commitOf(`${path} last change`), title: 'Upload', date: '2024-01-01T00:00:00.000Z' },
      securityFileStatus: { status: 'safe' },
    };
  }

  /** Serves bytes with Range support, like the hub and its CDN. */
  private sendBytes(req: IncomingMessage, res: ServerResponse, bytes: Buffer, headers: Record<string, string>): void {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const base = { 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream', ...headers };
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : bytes.byteLength - 1, bytes.byteLength - 1);
      const part = bytes.subarray(start, end + 1);
      res.writeHead(206, { ...base, 'Content-Range': `bytes ${start}-${end}/${bytes.byteLength}`, 'Content-Length': String(part.byteLength) });
      res.end(req.method === 'HEAD' ? undefined : part);
      return;
    }
    res.writeHead(200, { ...base, 'Content-Length': String(bytes.byteLength) });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.endpoint);
    const logged: LoggedRequest = { method: req.method ?? '', url: url.pathname + url.search, authorization: req.headers.authorization, range: req.headers.range };
    this.requests.push(logged);
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      logged.body = Buffer.concat(chunks).toString('utf8');
    }
    // Matched on the raw path: a revision with slashes arrives percent-encoded as one segment.
    const path = url.pathname;
    const d = decodeURIComponent;
    let match: RegExpExecArray | null;

    if ((match = /^\/api\/(models|datasets)\/(.+)\/revision\/([^/]+)$/.exec(path)) && req.method === 'GET') {
      const repo = this.lookup(req, res, key(match[1]!, match[2]!), d(match[3]!));
      if (!repo) return;
      if (repo.silent) return; // accepted, never answered (stop() closes the connection)
      this.json(res, 200, {
        _id: createHash('sha1').update(match[2]!).digest('hex').slice(0, 24),
        id: match[2],
        private: !!repo.private,
        gated: false,
        downloads: 0,
        likes: 0,
        lastModified: '2024-01-01T00:00:00.000Z',
        pipeline_tag: 'text-generation',
        sha: repo.sha,
        siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })),
      });
      return;
    }
    if ((match = /^\/api\/(models|datasets)\/(.+)\/paths-info\/([^/]+)$/.exec(path)) && req.method === 'POST') {
      const repo = this.lookup(req, res, key(match[1]!, match[2]!), d(match[3]!));
      if (!repo) return;
      const body = JSON.parse(logged.body ?? '{}') as { paths: string[] };
      const folders = this.folders(repo.files);
      this.json(res, 200, body.paths.flatMap((p) => (repo.files.has(p) ? [this.pathInfo(p, repo.files.get(p)!)] : folders.has(p) ? [{ type: 'directory', path: p, oid: commitOf(`tree ${p}`), size: 0 }] : [])));
      return;
    }
    if ((match = /^\/api\/(models|datasets)\/(.+?)\/tree\/([^/]+)(?:\/(.*))?$/.exec(path)) && req.method === 'GET') {
      const repo = this.lookup(req, res, key(match[1]!, match[2]!), d(match[3]!));
      if (!repo) return;
      const under = match[4] ? d(match[4]) : '';
      const recursive = url.searchParams.get('recursive') === 'true';
      const inside = (p: string) => (under ? p.startsWith(`${under}/`) : true) && (recursive || !p.slice(under ? under.length + 1 : 0).includes('/'));
      const folders = [...this.folders(repo.files)].filter(inside).map((p) => ({ type: 'directory', path: p, oid: commitOf(`tree ${p}`), size: 0 }));
      this.json(res, 200, [...folders, ...[...repo.files.entries()].filter(([p]) => inside(p)).map(([p, f]) => this.pathInfo(p, f))]);
      return;
    }
    if ((match = /^\/cdn-lfs\/([0-9a-f]{64})$/.exec(path)) && (req.method === 'GET' || req.method === 'HEAD')) {
      for (const repo of this.repos.values()) {
        for (const file of [repo.files, ...[...(repo.branches?.values() ?? [])].map((b) => b.files)].flatMap((files) => [...files.values()])) {
          if (file.lfsOid === match[1]) return this.sendBytes(req, res, file.bytes, { ETag: `"${file.lfsOid}"` });
        }
      }
      res.writeHead(404).end();
      return;
    }
    if ((match = /^\/(datasets\/)?(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path)) && (req.method === 'GET' || req.method === 'HEAD')) {
      const repo = this.lookup(req, res, key(match[1] ? 'datasets' : 'models', match[2]!), d(match[3]!));
      if (!repo) return;
      const filePath = d(match[4]!);
      const file = repo.files.get(filePath);
      if (!file) {
        this.json(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound', 'X-Repo-Commit': repo.sha });
        return;
      }
      const common = { 'X-Repo-Commit': repo.sha };
      if (repo.broken?.has(filePath)) {
        // The size probe succeeds, the download itself fails.
        if (req.headers.range) return this.sendBytes(req, res, file.bytes, { ...common, ETag: `"${file.gitOid}"` });
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('Internal Error');
        return;
      }
      if (repo.truncated?.has(filePath)) {
        // The size probe succeeds, the download stops half-way.
        if (req.headers.range) return this.sendBytes(req, res, file.bytes, { ...common, ETag: `"${file.gitOid}"` });
        res.writeHead(200, { ...common, 'Content-Type': 'application/octet-stream', 'Content-Length': String(file.bytes.byteLength) });
        res.write(file.bytes.subarray(0, file.bytes.byteLength >> 1), () => res.destroy());
        return;
      }
      if (repo.stalled?.has(filePath)) {
        // The size probe succeeds; the download sends half the file, then stalls with the connection open.
        if (req.headers.range) return this.sendBytes(req, res, file.bytes, { ...common, ETag: `"${file.gitOid}"` });
        res.writeHead(200, { ...common, 'Content-Type': 'application/octet-stream', 'Content-Length': String(file.bytes.byteLength) });
        res.write(file.bytes.subarray(0, file.bytes.byteLength >> 1));
        return;
      }
      if (file.lfsOid) {
        res.writeHead(302, {
          ...common,
          Location: `/cdn-lfs/${file.lfsOid}`,
          'X-Linked-Etag': `"${file.lfsOid}"`,
          'X-Linked-Size': String(file.bytes.byteLength),
          ETag: `"${file.lfsOid}"`,
          'Content-Length': '0',
        });
        res.end();
        return;
      }
      this.sendBytes(req, res, file.bytes, { ...common, ETag: `"${file.gitOid}"` });
      return;
    }
    this.json(res, 404, { error: `no route for ${req.method} ${path}` });
  }
}

/** The environment variables the hub code reads. */
export const HUB_ENV_KEYS = ['HF_HOME', 'HF_ENDPOINT', 'HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_HUB_OFFLINE', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_TOKEN_PATH', 'XDG_CACHE_HOME', 'HF_HUB_DISABLE_PROGRESS_BARS', 'HF_HUB_DOWNLOAD_TIMEOUT'];

/** Sets (a string) or unsets (undefined) environment variables. */
export function setEnv(values: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

/**
 * Saves and unsets the hub variables, and makes every `fetch` of this process assert that it stays on
 * 127.0.0.1. Returns the function that puts `fetch` and the variables back.
 */
export function isolateHubEnv(): () => void {
  const saved = new Map(HUB_ENV_KEYS.map((k) => [k, process.env[k]]));
  const originalFetch = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    assert.equal(url.hostname, '127.0.0.1', `test tried to reach ${url.href}`);
    return originalFetch(input, init);
  }) as typeof fetch;
  setEnv(Object.fromEntries(HUB_ENV_KEYS.map((k) => [k, undefined])));
  return () => {
    globalThis.fetch = originalFetch;
    setEnv(Object.fromEntries(saved));
  };
}
