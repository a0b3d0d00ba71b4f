/**
 * The explorer's route table: `METHOD path` → handler. Heavy routes run through the one-at-a-time job gate
 * and answer with an NDJSON stream; light routes answer with one JSON object; everything else under
 * `GET` is a static file of the app.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExploreRequestError } from '../errors.js';
import { readBody, readJson, sendJson } from './http.js';
import type { JobContext, JobGate } from './jobs.js';
import type { ExploreLimits, ExploreModel } from './context.js';
import { lensGrid, tokenTrace } from './api-lens.js';
import { attentionPattern, headScores } from './api-attention.js';
import { patching } from './api-patching.js';
import { saturation } from './api-saturation.js';
import { probeLogView, shortcutsView } from './api-uploads.js';
import { vitPatchLens, type ExploreVit } from './api-vit.js';
import { whisperLens, type ExploreWhisper } from './api-whisper.js';

/** Everything a handler needs. */
export interface RouteContext {
  model: ExploreModel;
  jobs: JobGate;
  limits: ExploreLimits;
  /** The ViT checkpoint of the image view, when the server was started with one. */
  vit?: ExploreVit;
  /** The Whisper checkpoint of the audio view, when the server was started with one. */
  whisper?: ExploreWhisper;
}

/** A heavy route: checks the body (throwing 4xx errors before any reply is written), then returns the job. */
type Heavy = (m: ExploreModel, body: unknown) => (job: JobContext) => Promise<unknown>;

/** Heavy routes (POST, JSON body, NDJSON reply) and the library function behind each. */
export const JOB_ROUTES: Readonly<Record<string, Heavy>> = Object.freeze({
  '/api/lens': lensGrid,
  '/api/lens/token': tokenTrace,
  '/api/attention/pattern': attentionPattern,
  '/api/attention/heads': headScores,
  '/api/patching': patching,
  '/api/saturation': saturation,
});

/** Upload routes (POST, raw file body up to `maxUploadBytes`, JSON reply). */
export const UPLOAD_ROUTES: Readonly<Record<string, (bytes: Buffer) => unknown>> = Object.freeze({
  '/api/shortcuts/run': shortcutsView,
  '/api/probes/log': probeLogView,
});

/** File-backed heavy routes (POST, the file as the body, parameters in the query, NDJSON reply): the ViT and Whisper views. */
const FILE_JOB_ROUTES: Readonly<Record<string, { needs: string; option: string; types: RegExp; typeNames: string; job: (ctx: RouteContext) => ((bytes: Buffer, query: URLSearchParams) => (job: JobContext) => Promise<unknown>) | undefined }>> = Object.freeze({
  '/api/vit/lens': { needs: 'ViT', option: '--vit-model', types: /^(image\/(png|jpeg)|application\/octet-stream)\b/i, typeNames: 'image/png, image/jpeg or application/octet-stream', job: (ctx) => ctx.vit && ((bytes) => vitPatchLens(ctx.vit!, bytes)) },
  '/api/whisper/lens': { needs: 'Whisper', option: '--whisper-model', types: /^(audio\/(wav|x-wav|wave)|application\/octet-stream)\b/i, typeNames: 'audio/wav or application/octet-stream', job: (ctx) => ctx.whisper && ((bytes, query) => whisperLens(ctx.whisper!, bytes, query)) },
});

/** Content types an upload may have: none of them is one a cross-site form can send without a preflight. */
const UPLOAD_TYPES = /^(application\/(json|x-ndjson|jsonl|octet-stream))\b/i;

/** Handles an `/api/…` request; returns false when the path is not an API route. */
export async function handleApi(req: IncomingMessage, res: ServerResponse, path: string, ctx: RouteContext, query: URLSearchParams = new URLSearchParams()): Promise<boolean> {
  if (!path.startsWith('/api/')) return false;
  const job = JOB_ROUTES[path];
  const upload = UPLOAD_ROUTES[path];
  if (path === '/api/info' || path === '/api/jobs') {
    if (req.method !== 'GET') throw new ExploreRequestError(405, `${path} takes GET, not ${req.method}`);
    sendJson(res, 200, path === '/api/info' ? info(ctx) : ctx.jobs.state());
    return true;
  }
  const fileJob = FILE_JOB_ROUTES[path];
  if (fileJob) {
    if (req.method !== 'POST') throw new ExploreRequestError(405, `${path} takes POST, not ${req.method}`);
    const make = fileJob.job(ctx);
    if (!make) throw new ExploreRequestError(404, `this explorer has no ${fileJob.needs} model`, `start it with ${fileJob.option} DIR|hubId`);
    const type = String(req.headers['content-type'] ?? '');
    if (!fileJob.types.test(type)) throw new ExploreRequestError(415, `${path} takes ${fileJob.typeNames}, not '${type || 'none'}'`);
    ctx.jobs.check();
    const bytes = await readBody(req, ctx.limits.maxUploadBytes);
    await ctx.jobs.run(path.slice(5), req, res, make(bytes, query));
    return true;
  }
  if (!job && !upload) throw new ExploreRequestError(404, `no API route ${JSON.stringify(path.slice(0, 200))}`, 'see docs/explore.md for the routes');
  if (req.method !== 'POST') throw new ExploreRequestError(405, `${path} takes POST, not ${req.method}`);
  if (upload) {
    const type = String(req.headers['content-type'] ?? '');
    if (!UPLOAD_TYPES.test(type)) throw new ExploreRequestError(415, `an upload must be sent as application/json, application/x-ndjson or application/octet-stream, not '${type || 'none'}'`);
    const bytes = await readBody(req, ctx.limits.maxUploadBytes);
    sendJson(res, 200, upload(bytes));
    return true;
  }
  const body = await readJson(req, ctx.limits.maxJsonBytes);
  ctx.jobs.check();
  await ctx.jobs.run(path.slice(5), req, res, job!(ctx.model, body));
  return true;
}

/** `GET /api/info`: the model, the backend, the limits and the docs page of each view. */
function info(ctx: RouteContext): unknown {
  const cfg = ctx.model.model.cfg;
  return {
    model: ctx.model.dir,
    backend: ctx.model.backend,
    nLayers: cfg.nLayers,
    nHeads: cfg.nHeads,
    dModel: cfg.dModel,
    dVocab: cfg.dVocab,
    nCtx: cfg.nCtx,
    limits: ctx.limits,
    vit: ctx.vit ? { model: ctx.vit.dir, nLayers: ctx.vit.model.cfg.nLayers, numLabels: ctx.vit.model.cfg.numLabels, imageSize: [ctx.vit.model.cfg.imageHeight, ctx.vit.model.cfg.imageWidth], patchSize: ctx.vit.model.cfg.patchSize } : null,
    whisper: ctx.whisper ? { model: ctx.whisper.dir, nLayers: ctx.whisper.model.cfg.nLayers, tokenizer: !!ctx.whisper.model.tokenizer, decoderStartTokenId: ctx.whisper.model.cfg.decoderStartTokenId } : null,
    routes: { jobs: [...Object.keys(JOB_ROUTES), ...Object.keys(FILE_JOB_ROUTES)], uploads: Object.keys(UPLOAD_ROUTES) },
  };
}
