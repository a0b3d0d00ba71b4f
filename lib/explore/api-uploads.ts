/**
 * The explorer's file-backed views: a saved run of `tfjs-lens shortcuts` (its `report.json`, written by
 * `runMatPipeline`) → r² heatmaps (mat vs id) and Precision@k per exit layer; and probe experiment logs
 * (JSONL, one experiment per line) → rows to filter, sort and plot by layer, pooler and classifier.
 * Both are checked field by field; a bad file is a 400 naming the field or line, never a partial view.
 */
import { z } from 'zod';
import { ExploreRequestError } from '../errors.js';
import { MAPPINGS, type MappingName } from '../shortcuts/evaluate.js';

const cell = z.number().nullable();
const square = z.array(z.array(cell)).min(1);
const curve = z.array(z.number().nullable());

/** The part of a shortcuts `report.json` the view reads. */
export const ShortcutsRunFile = z.object({
  model: z.object({ kind: z.string(), nLayers: z.int().min(1) }).loose(),
  nTrain: z.int(),
  nVal: z.int(),
  r2: z.object({ mat: square, id: square }),
  fixedExit: z.record(z.string(), z.object({ precisionAt1: curve, precisionAt5: curve, precisionAt10: curve, surprisal: curve.optional() }).loose()),
}).loose();

/** Reply of `POST /api/shortcuts/run`. */
export interface ShortcutsView {
  kind: string;
  nLayers: number;
  nTrain: number;
  nVal: number;
  /** `[L+1][L+1]` r² (source i row, target j column), null where undefined (diagonal and lower triangle). */
  r2: { mat: (number | null)[][]; id: (number | null)[][] };
  /** Per mapping, Precision@1/5/10 per exit layer ℓ = 0 … L. */
  precision: Partial<Record<MappingName, { at1: (number | null)[]; at5: (number | null)[]; at10: (number | null)[] }>>;
}

function refuse(message: string): ExploreRequestError {
  return new ExploreRequestError(400, message, 'upload the report.json that `tfjs-lens shortcuts --out DIR` writes');
}

/** Parses a shortcuts `report.json` upload. */
export function shortcutsView(bytes: Buffer): ShortcutsView {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw refuse(`the shortcuts run file is not JSON (${(err as Error).message})`);
  }
  const r = ShortcutsRunFile.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw refuse(`the shortcuts run file has a bad field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  const f = r.data;
  const n = f.model.nLayers + 1;
  for (const which of ['mat', 'id'] as const) {
    const m = f.r2[which];
    if (m.length !== n || m.some((row) => row.length !== n)) throw refuse(`r2.${which} must be ${n}×${n} (L+1 = ${n} residual states)`);
  }
  const precision: ShortcutsView['precision'] = {};
  for (const name of MAPPINGS) {
    const e = f.fixedExit[name];
    if (!e) continue;
    for (const key of ['precisionAt1', 'precisionAt5', 'precisionAt10'] as const) if (e[key].length !== n) throw refuse(`fixedExit.${name}.${key} has ${e[key].length} values, not L+1 = ${n}`);
    precision[name] = { at1: e.precisionAt1, at5: e.precisionAt5, at10: e.precisionAt10 };
  }
  if (!precision.id || !precision.mat) throw refuse('fixedExit must hold the mappings id and mat');
  return { kind: f.model.kind, nLayers: f.model.nLayers, nTrain: f.nTrain, nVal: f.nVal, r2: { mat: f.r2.mat, id: f.r2.id }, precision };
}

/** One experiment of a probe log: where it probed, how, and its scores. */
export const ProbeLogLine = z.object({
  layer: z.int().min(0),
  pooler: z.string().min(1).max(200),
  classifier: z.string().min(1).max(200),
}).catchall(z.union([z.number(), z.string(), z.boolean(), z.null()]));

/** Reply of `POST /api/probes/log`. */
export interface ProbeLogView {
  rows: z.infer<typeof ProbeLogLine>[];
  /** Fields holding a number on every row (besides layer): the scores to plot. */
  metrics: string[];
  poolers: string[];
  classifiers: string[];
  layers: number[];
}

/**
 * Parses a probe experiment log: JSON Lines, one object per experiment with `layer` (integer), `pooler`
 * and `classifier` (strings) and any scores (numbers), e.g.
 * `{"layer":3,"pooler":"mean","classifier":"logreg","balancedAccuracy":0.71,"auc":0.8}`.
 * Blank lines are skipped; every other line must parse.
 */
export function probeLogView(bytes: Buffer): ProbeLogView {
  const text = bytes.toString('utf8');
  const rows: ProbeLogView['rows'] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new ExploreRequestError(400, `probe log line ${i + 1} is not JSON (${(err as Error).message})`, 'a probe log has one JSON object per line');
    }
    const r = ProbeLogLine.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new ExploreRequestError(400, `probe log line ${i + 1}: field '${issue.path.join('.') || '(line)'}': ${issue.message}`, 'every line needs layer (integer), pooler and classifier (strings) and flat scores');
    }
    rows.push(r.data);
  }
  if (!rows.length) throw new ExploreRequestError(400, 'the probe log has no experiments', 'a probe log has one JSON object per line');
  const fixed = new Set(['layer', 'pooler', 'classifier']);
  const metrics = Object.keys(rows[0]!).filter((key) => !fixed.has(key) && rows.every((row) => typeof row[key] === 'number'));
  if (!metrics.length) throw new ExploreRequestError(400, 'no numeric score is present on every line of the probe log', 'add a score such as "balancedAccuracy" to every line');
  const uniq = <T,>(values: T[]) => [...new Set(values)].sort();
  return { rows, metrics, poolers: uniq(rows.map((r) => r.pooler)), classifiers: uniq(rows.map((r) => r.classifier)), layers: uniq(rows.map((r) => r.layer)).sort((a, b) => a - b) };
}
