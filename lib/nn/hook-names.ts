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

/** `get_act_name`'s activation aliases. */
const ACT_ALIASES: Record<string, string> = {
  attn: 'pattern',
  attn_logits: 'attn_scores',
  key: 'k',
  query: 'q',
  value: 'v',
  mlp_pre: 'pre',
  mlp_mid: 'mid',
  mlp_post: 'post',
};
/** `get_act_name`'s layer-type aliases ('' = the block itself). */
const LAYER_TYPE_ALIASES: Record<string, string> = { a: 'attn', m: 'mlp', b: '', block: '', blocks: '', attention: 'attn' };
const ATTN_KINDS = new Set(['k', 'v', 'q', 'z', 'rot_k', 'rot_q', 'result', 'pattern', 'attn_scores']);
const MLP_KINDS = new Set(['pre', 'post', 'mid', 'pre_linear']);

/**
 * TransformerLens `get_act_name`, rule for rule (its docstring examples are a test): expands shorthands to
 * full hook names. `'k6'` → `blocks.6.attn.hook_k`; `('k', 6, 'a')` → the same; `('pre', 2)` →
 * `blocks.2.mlp.hook_pre`; `('mlp_mid', 3)` → `blocks.3.mlp.hook_mid`; `'embed'` → `hook_embed`;
 * `('normalized', 27, 'ln2')` → `blocks.27.ln2.hook_normalized`; `'scale4ln1'` → `blocks.4.ln1.hook_scale`;
 * `'scale'` → `ln_final.hook_scale`; `('resid_pre', 3)` → `blocks.3.hook_resid_pre`. A name with a dot or
 * starting with `hook_` passes through when neither a layer nor a layer type is given. As in TransformerLens,
 * a layer-norm kind with a layer needs its layer type (`('scale', 4)` → `blocks.4.hook_scale`, which no
 * model has), and the first run of digits is the layer (`'resid_pre5'` has none after letters: `hook_resid_pre5`).
 */
export function getActName(name: string, layer?: number, layerType?: string): string {
  if ((name.includes('.') || name.startsWith('hook_')) && layer === undefined && layerType === undefined) return name;
  let kind = name;
  let lay: string | undefined = layer === undefined ? undefined : String(layer);
  let type = layerType;
  const compact = /^([a-z]+)(\d+)(.*)/.exec(name);
  if (compact) {
    kind = compact[1]!;
    lay = compact[2]!;
    type = compact[3]!;
  }
  kind = ACT_ALIASES[kind] ?? kind;
  if (ATTN_KINDS.has(kind)) type = 'attn';
  else if (MLP_KINDS.has(kind)) type = 'mlp';
  else if (type !== undefined && type in LAYER_TYPE_ALIASES) type = LAYER_TYPE_ALIASES[type];
  let full = lay === undefined ? '' : `blocks.${lay}.`;
  if (type) full += `${type}.`;
  full += `hook_${kind}`;
  if ((kind === 'scale' || kind === 'normalized') && lay === undefined) full = `ln_final.${full}`;
  return full;
}

/**
 * TransformerLens 3.x canonical names → the legacy names tfjs-lens uses, by the pre-LN block layout
 * (GPT-2, ViT, Whisper). Models resolve names with their own map first (`model.hookAliases()`: BERT's
 * post-LN `ln1.hook_in` is `hook_resid_mid`, Whisper decoder's `ln2.hook_in` is `hook_resid_mid_cross`).
 */
export function canonicalAlias(name: string): string | undefined {
  const rules: [RegExp, string][] = [
    [/^(.*blocks\.\d+)\.hook_in$/, '$1.hook_resid_pre'],
    [/^(.*blocks\.\d+)\.hook_out$/, '$1.hook_resid_post'],
    [/^(.*blocks\.\d+)\.ln1\.hook_in$/, '$1.hook_resid_pre'],
    [/^(.*blocks\.\d+)\.ln2\.hook_in$/, '$1.hook_resid_mid'],
    [/^(.*blocks\.\d+)\.attn\.hook_out$/, '$1.hook_attn_out'],
    [/^(.*blocks\.\d+\.(?:cross_)?attn)\.([qkv])\.hook_out$/, '$1.hook_$2'],
    [/^(.*blocks\.\d+\.(?:cross_)?attn)\.o\.hook_in$/, '$1.hook_z'],
    [/^(.*blocks\.\d+)\.mlp\.hook_out$/, '$1.hook_mlp_out'],
    [/^(.*blocks\.\d+\.mlp)\.in\.hook_out$/, '$1.hook_pre'],
    [/^(.*blocks\.\d+\.mlp)\.out\.hook_in$/, '$1.hook_post'],
    [/^(.*)pos_embed\.hook_out$/, '$1hook_pos_embed'],
    [/^(.*)embed\.hook_out$/, '$1hook_embed'],
    [/^embed\.hook_in$/, 'hook_tokens'],
  ];
  for (const [re, to] of rules) if (re.test(name)) return name.replace(re, to);
  return undefined;
}
