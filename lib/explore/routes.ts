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

/** Everything a handler needs. */
export interface RouteContext {
  model: ExploreModel;
  jobs: JobGate;
  limits: ExploreLimits;
  /** The ViT checkpoint of the image view, when the server was started with one. */
  vit?: ExploreVit;
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

/** Content types an upload may have: none of them is one a cross-site form can send without a preflight. */
const UPLOAD_TYPES = /^(application\/(json|x-ndjson|jsonl|octet-stream))\b/i;

/** Handles an `/api/…` request; returns false when the path is not an API route. */
export async function handleApi(req: IncomingMessage, res: ServerResponse, path: string, ctx: RouteContext): Promise<boolean> {
  if (!path.startsWith('/api/')) return false;
  const job = JOB_ROUTES[path];
  const upload = UPLOAD_ROUTES[path];
  if (path === '/api/info' || path === '/api/jobs') {
    if (req.method !== 'GET') throw new ExploreRequestError(405, `${path} takes GET, not ${req.method}`);
    sendJson(res, 200, path === '/api/info' ? info(ctx) : ctx.jobs.state());
    return true;
  }
  if (path === '/api/vit/lens') {
    if (req.method !== 'POST') throw new ExploreRequestError(405, `${path} takes POST, not ${req.method}`);
    if (!ctx.vit) throw new ExploreRequestError(404, 'this explorer has no ViT model', 'start it with --vit-model DIR|hubId');
    const type = String(req.headers['content-type'] ?? '');
    if (!/^(image\/(png|jpeg)|application\/octet-stream)\b/i.test(type)) throw new ExploreRequestError(415, `an image must be sent as image/png, image/jpeg or application/octet-stream, not '${type || 'none'}'`);
    ctx.jobs.check();
    const bytes = await readBody(req, ctx.limits.maxUploadBytes);
    await ctx.jobs.run('vit/lens', req, res, vitPatchLens(ctx.vit, bytes));
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
    routes: { jobs: [...Object.keys(JOB_ROUTES), '/api/vit/lens'], uploads: Object.keys(UPLOAD_ROUTES) },
  };
}
