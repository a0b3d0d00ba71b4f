/** Shared pieces of the `tfjs-lens` subcommands: the embedded default model, backend set-up, tables. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND_NAMES, setBackend } from '../backend/index.js';
import { resolveModelArg } from '../io/shipped-models.js';
import { loadModel, type HookedModel } from '../nn/load.js';
import { resolveModelDir } from '../io/resolve.js';
import { alignmentNotice } from '../io/safetensors-align.js';

export { PACKAGE_ROOT, DEFAULT_MODEL_DIR, SHIPPED_MODELS, resolveModelArg } from '../io/shipped-models.js';

/** Help text of every subcommand's `-b, --backend <name>`: the accepted names. */
export const BACKEND_HELP = BACKEND_NAMES.join(' | ');

/** Options every subcommand takes. */
export interface CommonOptions {
  model?: string;
  backend?: string;
  json?: boolean;
}

/** Selects the backend (flag, else `TFJS_LENS_BACKEND`, else wasm with cpu fallback) and loads the model. */
export async function setup(opts: CommonOptions): Promise<{ model: HookedModel; dir: string; backend: string }> {
  const active = await setBackend(opts.backend ?? process.env.TFJS_LENS_BACKEND ?? 'wasm');
  const dir = resolveModelArg(opts.model);
  const model = await loadModel(dir);
  if (active.name === 'tensorflow') {
    // Advice only: a checkpoint this cannot read again (it was just loaded) never fails the command.
    const notice = await resolveModelDir(dir, { offline: true }).then((d) => alignmentNotice(d)).catch(() => undefined);
    if (notice) process.stderr.write(`tfjs-lens: note: ${notice}\n`);
  }
  return { model, dir, backend: `${active.name} (${active.detail})` };
}

/** Reads an optional JSON file of a checkpoint dir. */
export function readOptionalJson(dir: string, file: string): Record<string, unknown> | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** Renders rows as an aligned plain-text table. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Makes a token string printable in a table cell (quotes, visible whitespace). */
export function showToken(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}
