/**
 * `tfjs-lens explore`'s HTTP server (`node:http`): serves the single-page app built into
 * `dist/explore-app/` and the JSON API of its views (routes.ts), computing with the library in this
 * process. Binds 127.0.0.1 on a free port by default. Every request is answered: errors become a JSON
 * 4xx/5xx reply (http.ts), and a request whose Host header names another site is refused (DNS rebinding).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { setBackend } from '../backend/index.js';
import { loadModel } from '../nn/load.js';
import { DEFAULT_MODEL_DIR, PACKAGE_ROOT, resolveModelArg } from '../io/shipped-models.js';
import { CausalLmRoot } from '../nn/causal-lm.js';
import { ExploreRequestError, InvalidArgumentError } from '../errors.js';
import { sendError } from './http.js';
import { JobGate } from './jobs.js';
import { serveStatic } from './static-files.js';
import { handleApi, type RouteContext } from './routes.js';
import { loadExploreVit, type ExploreVit } from './api-vit.js';
import { loadExploreWhisper, type ExploreWhisper } from './api-whisper.js';
import { DEFAULT_LIMITS, type ExploreLimits, type ExploreModel } from './context.js';

/** Package root (dist/lib/explore → ../../..). */


/** The app bundle folder built by `scripts/build-explore.mjs`. */
export const EXPLORE_APP_DIR = join(PACKAGE_ROOT, 'dist', 'explore-app');

/** The package's docs folder, served read-only under `/docs/` (the views link to their pages). */
export const EXPLORE_DOCS_DIR = join(PACKAGE_ROOT, 'docs');

/** The shipped tiny GPT-2 (the default model). */
export const EXPLORE_DEFAULT_MODEL = DEFAULT_MODEL_DIR;

/** Options of `startExploreServer`. */
export interface ExploreServerOptions {
  /** Checkpoint directory or hub id (default: the shipped tiny GPT-2). */
  model?: string;
  /** Backend name (default `TFJS_LENS_BACKEND`, else `'auto'`). */
  backend?: string;
  /** Interface to bind (default `'127.0.0.1'`). */
  host?: string;
  /** Port (default 0: a free port). */
  port?: number;
  /** Request limits (default `DEFAULT_LIMITS`). */
  limits?: Partial<ExploreLimits>;
  /** A ViT checkpoint (directory or hub id) for the image view; none by default. */
  vitModel?: string;
  /** A Whisper checkpoint (directory or hub id) for the audio view; none by default. */
  whisperModel?: string;
  /** Folder of the app files (default `EXPLORE_APP_DIR`). */
  appDir?: string;
}

/** A running explorer. */
export interface ExploreServer {
  /** `http://HOST:PORT/`. */
  url: string;
  host: string;
  port: number;
  /** The model and backend it serves. */
  model: ExploreModel;
  /** The underlying server. */
  server: Server;
  /** Stops accepting requests, ends open ones and disposes the model. */
  close(): Promise<void>;
}

/** True for loopback addresses and names. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Loads the model (a causal LM — GPT-2, Llama, GPT-NeoX, Gemma — with a tokenizer) on the chosen backend. */
export async function loadExploreModel(opts: Pick<ExploreServerOptions, 'model' | 'backend'>): Promise<ExploreModel> {
  const active = await setBackend(opts.backend ?? process.env.TFJS_LENS_BACKEND ?? 'auto', { verbose: false });
  const dir = resolveModelArg(opts.model);
  const model = await loadModel(dir);
  if (!(model instanceof CausalLmRoot) || !model.tokenizer) {
    model.dispose();
    throw new InvalidArgumentError(`the explorer needs a causal language model checkpoint (GPT-2, Llama, GPT-NeoX, Gemma) with a tokenizer; ${dir} is not one`, 'pass --model with such a directory or hub id, or leave it out for the shipped tiny GPT-2');
  }
  return { model, tokenizer: model.tokenizer, dir, backend: `${active.name} (${active.detail})` };
}

/** Starts the explorer; resolves once it listens. */
export async function startExploreServer(opts: ExploreServerOptions = {}): Promise<ExploreServer> {
  const host = opts.host ?? '127.0.0.1';
  const appDir = opts.appDir ?? EXPLORE_APP_DIR;
  if (!existsSync(join(appDir, 'index.html'))) throw new InvalidArgumentError(`the explorer app is not built (${appDir} has no index.html)`, 'run `npm run build`');
  const model = await loadExploreModel(opts);
  let vit: ExploreVit | undefined;
  let whisper: ExploreWhisper | undefined;
  try {
    vit = opts.vitModel ? await loadExploreVit(opts.vitModel) : undefined;
    whisper = opts.whisperModel ? await loadExploreWhisper(opts.whisperModel) : undefined;
  } catch (err) {
    model.model.dispose();
    vit?.model.dispose();
    throw err;
  }
  const ctx: RouteContext = { model, jobs: new JobGate(), limits: { ...DEFAULT_LIMITS, ...opts.limits }, vit, whisper };
  let allowedHosts: Set<string> = new Set();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const hostHeader = String(req.headers.host ?? '');
      if (isLoopback(host) && !allowedHosts.has(hostHeader.toLowerCase())) throw new ExploreRequestError(421, `Host '${hostHeader.slice(0, 100)}' is not this server`, 'open the URL the server printed');
      const url = new URL(req.url ?? '/', 'http://explore.invalid');
      if (await handleApi(req, res, url.pathname, ctx, url.searchParams)) return;
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new ExploreRequestError(405, `static files take GET, not ${req.method}`);
      // the raw path (still percent-encoded): URL() would already have resolved `..` segments
      const rawPath = (req.url ?? '/').split(/[?#]/)[0]!;
      if (rawPath.startsWith('/docs/')) serveStatic(res, EXPLORE_DOCS_DIR, rawPath.slice('/docs'.length), req.method === 'HEAD');
      else serveStatic(res, appDir, rawPath, req.method === 'HEAD');
    } catch (err) {
      if (!(err instanceof ExploreRequestError) && process.env.TFJS_LENS_DEBUG) console.error(err);
      sendError(res, err);
    }
  };
  const server = createServer((req, res) => void handle(req, res));
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":{"code":"E_EXPLORE_REQUEST","message":"malformed HTTP request","hint":"","status":400}}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  allowedHosts = new Set([`${shown}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`].map((h) => h.toLowerCase()));
  return {
    url: `http://${shown}:${port}/`,
    host,
    port,
    model,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      model.model.dispose();
      vit?.model.dispose();
      whisper?.model.dispose();
    },
  };
}
