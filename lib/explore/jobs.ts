/**
 * The explorer's heavy jobs (lens, attention, patching, saturation): one at a time, progress streamed as
 * NDJSON lines, cancelled when the client goes away. A job is an async function that calls
 * `ctx.step(stage)` between units of work (layers, heads, sentences); once the request is aborted the next
 * `step` throws `JobCancelledError` and the job ends there. The gate stays closed until the job has really
 * stopped, so a second heavy request gets 409 until then.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExploreRequestError } from '../errors.js';
import { errorBody, startStream } from './http.js';

/** Thrown by `JobContext.step` once the client has gone away. */
export class JobCancelledError extends Error {
  constructor() {
    super('the job was cancelled (the client closed its request)');
    this.name = 'JobCancelledError';
  }
}

/** What a job sees: progress reporting, which is also where it stops when cancelled. */
export interface JobContext {
  /**
   * Reports that `done` of `total` units are finished and yields to the event loop (so the server reads
   * other requests and notices a closed connection while a job computes); throws `JobCancelledError` when
   * cancelled.
   */
  step(stage: string, done: number, total: number): Promise<void>;
  /** Aborted when the client has gone away. */
  readonly signal: AbortSignal;
}

/** How the last job ended (for `GET /api/jobs`). */
export interface JobRecord {
  name: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  /** Progress steps reported. */
  steps: number;
  /** Units done of total at the last step. */
  done: number;
  total: number;
  seconds: number;
}

/** One-at-a-time gate of heavy jobs. */
export class JobGate {
  private current: JobRecord | undefined;
  private last: JobRecord | undefined;

  /** The running job and the last finished one. */
  state(): { running: JobRecord | null; last: JobRecord | null } {
    return { running: this.current ? { ...this.current } : null, last: this.last ? { ...this.last } : null };
  }

  /** @throws ExploreRequestError 409 when a job is running. */
  check(): void {
    if (this.current) throw new ExploreRequestError(409, `another job (${this.current.name}) is running; the explorer runs one heavy job at a time`, 'wait for it to finish or cancel it, then send again');
  }

  /**
   * Runs `job` and streams its progress and result to `res` as NDJSON (`{type:'progress'|'result'|'error'}`).
   * @throws ExploreRequestError 409 (before anything is written) when another job is running.
   */
  async run(name: string, req: IncomingMessage, res: ServerResponse, job: (ctx: JobContext) => Promise<unknown>): Promise<void> {
    this.check();
    const record: JobRecord = { name, status: 'running', steps: 0, done: 0, total: 0, seconds: 0 };
    this.current = record;
    const started = performance.now();
    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.on('close', onClose);
    req.on('aborted', onClose);
    try {
      const write = startStream(res);
      const ctx: JobContext = {
        signal: abort.signal,
        step: async (stage, done, total) => {
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (abort.signal.aborted) throw new JobCancelledError();
          record.steps++;
          record.done = done;
          record.total = total;
          write({ type: 'progress', stage, done, total });
        },
      };
      try {
        await ctx.step('start', 0, 1);
        const data = await job(ctx);
        if (abort.signal.aborted) throw new JobCancelledError();
        record.status = 'done';
        write({ type: 'result', data });
      } catch (err) {
        record.status = err instanceof JobCancelledError ? 'cancelled' : 'failed';
        if (!(err instanceof JobCancelledError)) write({ type: 'error', error: errorBody(err).error });
      }
      res.end();
    } finally {
      res.off('close', onClose);
      record.seconds = (performance.now() - started) / 1000;
      this.last = record;
      this.current = undefined;
    }
  }
}

/** A job context for running a view's computation outside a request (the demo snapshot): no progress, never cancelled. */
export function detachedJob(): JobContext {
  return { signal: new AbortController().signal, step: async () => undefined };
}
