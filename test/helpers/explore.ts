/** Helpers of the explorer tests: the built app, raw HTTP requests, NDJSON job replies, the explore command started from the CLI. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { ROOT } from './fixtures.js';

/** Builds dist/explore-app when it is missing (a tsc-only build); returns its folder. */
export function ensureExploreApp(): string {
  const dir = join(ROOT, 'dist', 'explore-app');
  if (!existsSync(join(dir, 'app.js'))) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-explore.mjs')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build-explore failed: ${r.stderr}`);
  }
  return dir;
}

/** A raw request (the path is sent as given, no URL normalisation). */
export function rawRequest(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: { host: `127.0.0.1:${port}`, ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** One line of a job reply. */
export interface JobLine {
  type: 'progress' | 'result' | 'error';
  data?: unknown;
  error?: { code: string; message: string; status: number };
  done?: number;
  total?: number;
}

/** POSTs a job and returns its status and parsed NDJSON lines. */
export async function postJob(base: string, path: string, body: unknown): Promise<{ status: number; lines: JobLine[]; json?: { error: { code: string; message: string; status: number } } }> {
  const res = await fetch(new URL(path, base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) return { status: res.status, lines: [], json: JSON.parse(text) };
  return { status: res.status, lines: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JobLine) };
}

/** The result of a job that must succeed. */
export async function jobResult<T>(base: string, path: string, body: unknown): Promise<T> {
  const r = await postJob(base, path, body);
  if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
  const last = r.lines[r.lines.length - 1]!;
  if (last.type !== 'result') throw new Error(`${path}: ${JSON.stringify(last)}`);
  return last.data as T;
}

/**
 * Starts the built `tfjs-lens explore …args` in a child process and resolves once it prints its URL;
 * `stderr()` is what it wrote there so far. The caller kills the child. Rejects (and kills it) if it exits first.
 */
export async function startExploreCli(args: readonly string[]): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'lib', 'cli', 'main.js'), 'explore', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /^(http:\/\/\S+\/)$/m.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`explore ${args.join(' ')} exited with ${code}: ${err}`)));
    });
    return { url, child, stderr: () => err };
  } catch (e) {
    child.kill('SIGTERM');
    throw e;
  }
}
