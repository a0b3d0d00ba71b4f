/**
 * Rotary position embedding parameters of Hugging Face configs: `rope_parameters` (transformers ≥ 5) or the older
 * `rope_theta` + `rope_scaling` pair, as one typed record. The frequencies themselves are computed in
 * `nn/components/rotary.ts`.
 */
import { ConfigError } from '../../errors.js';

/** The rope scaling types tfjs-lens computes (transformers' `ROPE_INIT_FUNCTIONS` names, plus `default`). */
export const ROPE_TYPES = ['default', 'linear', 'dynamic', 'llama3', 'yarn'] as const;

/** How the inverse frequencies are scaled (fields as in transformers' `rope_parameters`). */
export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  /** NTK-aware: the base grows with the sequence length once it exceeds `maxPositionEmbeddings`. */
  | { type: 'dynamic'; factor: number; maxPositionEmbeddings: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number }
  | {
      type: 'yarn';
      factor: number;
      originalMaxPositionEmbeddings: number;
      /** Multiplier of cos and sin; derived from `factor` (and `mscale`, `mscaleAllDim`) when absent. */
      attentionFactor?: number;
      betaFast: number;
      betaSlow: number;
      mscale?: number;
      mscaleAllDim?: number;
      truncate: boolean;
    };

/** Everything that fixes a rotary embedding: `rotaryDim ≤ dHead` leading dims of each head rotate, at `base`. */
export interface RopeParams {
  /** Base wavelength θ (`rope_theta`). */
  base: number;
  /** Rotated dims per head (even; `dHead · partial_rotary_factor`). */
  rotaryDim: number;
  scaling: RopeScaling;
}

function num(raw: Record<string, unknown>, key: string, where: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${where}: rope parameter '${key}' must be a number, got ${JSON.stringify(raw[key] ?? null)}`);
  return v;
}

function optNum(raw: Record<string, unknown>, key: string, where: string): number | undefined {
  return raw[key] === undefined || raw[key] === null ? undefined : num(raw, key, where);
}

/**
 * A config's rope scaling dict (`rope_parameters` or `rope_scaling`; null/absent = default) → `RopeScaling`.
 * `rope_type` (or the older `type`) must be one of `ROPE_TYPES`; any other raises `ConfigError` naming it.
 * `maxPositionEmbeddings` is the config's `max_position_embeddings` (the fallback of
 * `original_max_position_embeddings`, as transformers' `standardize_rope_params`).
 */
export function parseRopeScaling(raw: unknown, where: string, maxPositionEmbeddings: number): RopeScaling {
  if (raw === undefined || raw === null) return { type: 'default' };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${where}: rope scaling must be an object, got ${JSON.stringify(raw)}`);
  const r = raw as Record<string, unknown>;
  const type = r.rope_type ?? r.type ?? 'default';
  const original = () => num(r, 'original_max_position_embeddings', where, maxPositionEmbeddings);
  switch (type) {
    case 'default':
      return { type: 'default' };
    case 'linear':
      return { type: 'linear', factor: num(r, 'factor', where) };
    case 'dynamic':
      return { type: 'dynamic', factor: num(r, 'factor', where), maxPositionEmbeddings };
    case 'llama3':
      return { type: 'llama3', factor: num(r, 'factor', where), lowFreqFactor: num(r, 'low_freq_factor', where), highFreqFactor: num(r, 'high_freq_factor', where), originalMaxPositionEmbeddings: original() };
    case 'yarn': {
      const originalMax = original();
      return {
        type: 'yarn',
        factor: r.factor === undefined || r.factor === null ? maxPositionEmbeddings / originalMax : num(r, 'factor', where),
        originalMaxPositionEmbeddings: originalMax,
        attentionFactor: optNum(r, 'attention_factor', where),
        betaFast: optNum(r, 'beta_fast', where) || 32,
        betaSlow: optNum(r, 'beta_slow', where) || 1,
        mscale: optNum(r, 'mscale', where),
        mscaleAllDim: optNum(r, 'mscale_all_dim', where),
        truncate: r.truncate === undefined ? true : Boolean(r.truncate),
      };
    }
    default:
      throw new ConfigError(`${where}: unsupported rope type '${String(type)}'`, `supported rope types: ${ROPE_TYPES.join(', ')}`);
  }
}
