/**
 * Hook-name utilities: close-match suggestions for unknown names, TransformerLens `getActName`
 * shorthands (§11b of the spec) and the TransformerLens 3.x canonical aliases.
 */

/** Levenshtein distance (small strings only). */
function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Up to `limit` known names closest to `name` (edit distance, then shared suffix). */
export function closeMatches(name: string, known: readonly string[], limit = 3): string[] {
  const scored = known.map((k) => ({ k, d: editDistance(name, k) }));
  scored.sort((a, b) => a.d - b.d || a.k.localeCompare(b.k));
  const cutoff = Math.max(3, Math.ceil(name.length * 0.4));
  return scored.filter((s) => s.d <= cutoff).slice(0, limit).map((s) => s.k);
}

const ALIASES: Record<string, string> = {
  attn: 'pattern',
  attn_logits: 'attn_scores',
  key: 'k',
  query: 'q',
  value: 'v',
  mlp_pre: 'pre',
  mlp_post: 'post',
};
const ATTN_KINDS = new Set(['q', 'k', 'v', 'z', 'result', 'pattern', 'attn_scores', 'rot_q', 'rot_k']);
const MLP_KINDS = new Set(['pre', 'post', 'mid', 'pre_linear']);
const LAYER_TYPES: Record<string, string | undefined> = { a: 'attn', m: 'mlp', b: undefined, block: undefined, blocks: undefined, attn: 'attn', mlp: 'mlp', ln1: 'ln1', ln2: 'ln2', ln_final: 'ln_final' };

/**
 * TransformerLens `get_act_name`: expands shorthands to full hook names.
 * `'k6'` → `blocks.6.attn.hook_k`; `('pre', 2)` → `blocks.2.mlp.hook_pre`; `'embed'` → `hook_embed`;
 * `('normalized', 27, 'ln2')` → `blocks.27.ln2.hook_normalized`; `'scale4ln1'` → `blocks.4.ln1.hook_scale`;
 * `'scale'` → `ln_final.hook_scale`; `('resid_pre', 3)` → `blocks.3.hook_resid_pre`. Full names pass through.
 */
export function getActName(name: string, layer?: number, layerType?: string): string {
  if (name.includes('.') || (name.startsWith('hook_') && layer === undefined)) return name;
  let kind = name;
  let lay = layer;
  let type = layerType;
  const compact = /^([a-z_]+?)(\d+)([a-z_0-9]*)$/.exec(name);
  if (compact && layer === undefined) {
    kind = compact[1]!;
    lay = Number(compact[2]);
    type = compact[3] || undefined;
  }
  kind = ALIASES[kind] ?? kind;
  if (type !== undefined && type in LAYER_TYPES) type = LAYER_TYPES[type];
  if (lay === undefined) {
    if (kind === 'scale' || kind === 'normalized') return `ln_final.hook_${kind}`;
    return `hook_${kind}`;
  }
  if (ATTN_KINDS.has(kind)) return `blocks.${lay}.attn.hook_${kind}`;
  if (MLP_KINDS.has(kind)) return `blocks.${lay}.mlp.hook_${kind}`;
  if (kind === 'scale' || kind === 'normalized') return `blocks.${lay}.${type ?? 'ln1'}.hook_${kind}`;
  return type ? `blocks.${lay}.${type}.hook_${kind}` : `blocks.${lay}.hook_${kind}`;
}

/** TransformerLens 3.x canonical names → legacy names used by tfjs-lens (accepted as aliases). */
export function canonicalAlias(name: string): string | undefined {
  const rules: [RegExp, string][] = [
    [/^(.*blocks\.\d+)\.hook_in$/, '$1.hook_resid_pre'],
    [/^(.*blocks\.\d+)\.hook_out$/, '$1.hook_resid_post'],
    [/^(.*blocks\.\d+)\.attn\.hook_out$/, '$1.hook_attn_out'],
    [/^(.*blocks\.\d+)\.mlp\.hook_out$/, '$1.hook_mlp_out'],
    [/^(.*)pos_embed\.hook_out$/, '$1hook_pos_embed'],
    [/^(.*)embed\.hook_out$/, '$1hook_embed'],
  ];
  for (const [re, to] of rules) if (re.test(name)) return name.replace(re, to);
  return undefined;
}
