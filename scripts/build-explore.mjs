#!/usr/bin/env node
// Builds the explorer's single-page app (web/explore/) into dist/explore-app/: one esbuild bundle
// (app.js, with vega and vega-lite), index.html and app.css. Run by `npm run build`, `npm test` and `prepare`
// after tsc (tsc type-checks web/ with the rest; esbuild only bundles).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'explore-app');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'web', 'explore', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css']) copyFileSync(join(root, 'web', 'explore', f), join(out, f));
