/**
 * The app's side of the explorer API (docs/explore.md): JSON GETs, file uploads, and heavy jobs whose
 * reply is an NDJSON stream of progress lines ending in a result or an error line. Aborting the signal
 * closes the request, which cancels the job on the server.
 */

/** An error reply of the server (`{ error: { code, message, hint, status } }`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** One progress line of a job. */
export interface Progress {
  stage: string;
  done: number;
  total: number;
}

async function failure(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; hint?: string } };
    return new ApiError(res.status, body.error?.code ?? 'E_HTTP', body.error?.message ?? res.statusText, body.error?.hint ?? '');
  } catch {
    return new ApiError(res.status, 'E_HTTP', `${res.status} ${res.statusText}`, '');
  }
}

/** `GET path` → JSON. */
export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path);
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** Uploads a file's bytes to an upload route → JSON. */
export async function upload<T>(path: string, file: Blob, type = 'application/octet-stream'): Promise<T> {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': type }, body: file });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** Runs a heavy job: POSTs `body` (JSON, or a file's bytes), calls `onProgress` per progress line, resolves with the result. */
export async function runJob<T>(path: string, body: unknown, onProgress: (p: Progress) => void, signal?: AbortSignal): Promise<T> {
  const file = body instanceof Blob;
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': file ? body.type || 'application/octet-stream' : 'application/json' }, body: file ? body : JSON.stringify(body), signal });
  if (!res.ok) throw await failure(res);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffered += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as { type: string; data?: T; error?: { code: string; message: string; hint: string; status: number } } & Progress;
      if (msg.type === 'progress') onProgress(msg);
      else if (msg.type === 'result') return msg.data as T;
      else if (msg.type === 'error') throw new ApiError(msg.error!.status, msg.error!.code, msg.error!.message, msg.error!.hint);
    }
    if (done) throw new ApiError(0, 'E_STREAM', 'the job ended without a result', 'the server may have stopped; reload the page');
  }
}
