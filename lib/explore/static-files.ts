/**
 * Static files of the explorer's single-page app (`dist/explore-app/`). A request path is decoded once,
 * must be relative, must not contain `..` segments, NUL or backslashes, and must resolve (symlinks
 * followed) to a regular file inside the app folder; anything else is a 404 JSON error.
 */
import { realpathSync, statSync, readFileSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import type { ServerResponse } from 'node:http';
import { ExploreRequestError } from '../errors.js';
import { SECURITY_HEADERS } from './http.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.map': 'application/json; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/**
 * Content-Security-Policy of the app pages: scripts from the server only ('unsafe-eval' because vega
 * compiles its expressions with `Function`), no plugins, no framing, connections to the server only.
 */
export const APP_CSP = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The file of `urlPath` (the path part of the request URL, still percent-encoded) inside `root`.
 * @throws ExploreRequestError 404 for paths outside `root`, malformed encodings and missing files.
 */
export function resolveStaticPath(root: string, urlPath: string): string {
  const refuse = (why: string) => new ExploreRequestError(404, `no such file: ${JSON.stringify(urlPath.slice(0, 200))} (${why})`, 'the app serves only the files of its own folder');
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    throw refuse('malformed percent-encoding');
  }
  if (!decoded.startsWith('/')) throw refuse('not an absolute URL path');
  const rel = decoded === '/' ? 'index.html' : decoded.slice(1);
  if (rel.includes('\0') || rel.includes('\\') || rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) throw refuse('not a relative file name');
  if (rel.split('/').some((seg) => seg === '..' || seg === '.')) throw refuse('dot segments are not allowed');
  const realRoot = realpathSync(root);
  let real: string;
  try {
    real = realpathSync(join(realRoot, rel));
  } catch {
    throw refuse('not found');
  }
  if (!real.startsWith(realRoot + sep)) throw refuse('outside the app folder');
  if (!statSync(real).isFile()) throw refuse('not a file');
  return real;
}

/** Serves `urlPath` from `root` (GET/HEAD). */
export function serveStatic(res: ServerResponse, root: string, urlPath: string, head = false): void {
  const file = resolveStaticPath(root, urlPath);
  const body = readFileSync(file);
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': body.length, 'content-security-policy': APP_CSP, 'cache-control': 'no-cache' });
  res.end(head ? undefined : body);
}
