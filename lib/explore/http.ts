/**
 * HTTP plumbing of the explorer server (`node:http` only): JSON replies, typed errors → status codes,
 * request bodies read with a size limit, and NDJSON streams for long jobs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExploreRequestError, TfjsLensError } from '../errors.js';

/** Security headers sent with every reply (no framing, no sniffing, same-origin only). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
});

/** Writes `body` as a JSON reply with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** The JSON error body every failed request gets: `{ error: { code, message, hint } }`. */
export interface ErrorBody {
  error: { code: string; message: string; hint: string; status: number };
}

/** HTTP status of an error: the explorer's own request errors carry one, other library errors are 400, the rest 500. */
export function statusOf(err: unknown): number {
  if (err instanceof ExploreRequestError) return err.status;
  if (err instanceof TfjsLensError) return err.code === 'E_OUT_OF_MEMORY' || err.code === 'E_BACKEND_UNAVAILABLE' || err.code === 'E_BACKEND_SETUP' ? 503 : 400;
  return 500;
}

/** The JSON body of an error (the message without the hint line; internal errors keep only their message). */
export function errorBody(err: unknown): ErrorBody {
  const status = statusOf(err);
  if (err instanceof TfjsLensError) return { error: { code: err.code, message: err.message.split('\n  hint: ')[0]!, hint: err.hint, status } };
  return { error: { code: 'E_INTERNAL', message: err instanceof Error ? err.message : String(err), hint: 'this is a bug in tfjs-lens explore; the server keeps running', status } };
}

/** Replies with the error's status and JSON body. */
export function sendError(res: ServerResponse, err: unknown): void {
  const body = errorBody(err);
  sendJson(res, body.error.status, body);
}

/**
 * Reads a request body up to `limit` bytes.
 * @throws ExploreRequestError 413 when the body (or its declared content-length) is larger.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new ExploreRequestError(413, `the request body is ${declared} bytes, more than the limit of ${limit}`, 'send a smaller file, or start the server with a larger --max-upload');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new ExploreRequestError(413, `the request body is more than the limit of ${limit} bytes`, 'send a smaller file, or start the server with a larger --max-upload');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads and parses a JSON request body (must be an object).
 * @throws ExploreRequestError 415 (not JSON), 400 (malformed JSON or not an object), 413 (too large).
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) throw new ExploreRequestError(415, `the request body must be application/json, not '${type || 'none'}'`, "send JSON with 'content-type: application/json'");
  const body = await readBody(req, limit);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ExploreRequestError(400, `the request body is not valid JSON (${(err as Error).message})`, 'send one JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ExploreRequestError(400, 'the request body must be a JSON object', 'send one JSON object, e.g. {"text": "…"}');
  return value as Record<string, unknown>;
}

/** One line of a job's NDJSON stream. */
export type StreamLine =
  | { type: 'progress'; done: number; total: number; stage: string }
  | { type: 'result'; data: unknown }
  | { type: 'error'; error: ErrorBody['error'] };

/** Starts an NDJSON reply (`application/x-ndjson`, one JSON object per line). */
export function startStream(res: ServerResponse): (line: StreamLine) => void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  return (line) => {
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(line)}\n`);
  };
}
