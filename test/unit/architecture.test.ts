/**
 * The layering of lib/ (docs/architecture.md), checked from the import lines of every lib/**.ts file
 * (static `import … from`, `export … from`, `import type`, and dynamic `import('…')`): no import circles,
 * and no import from a lower layer to a higher one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { ROOT } from '../helpers/fixtures.js';
import { defaultTierOnly } from '../helpers/backend.js';

/**
 * Layer of each top-level part of lib/ (a file may import its own part and lower layers only). Keep in
 * step with the table in docs/architecture.md.
 */
const LAYER: Record<string, number> = {
  '(root)': 0, // errors.ts, tf.ts
  backend: 1, math: 1,
  io: 2, data: 2, // io puts weights into the backend as it reads them (backend/materialize.ts)
  nn: 3, linreg: 3, plot: 3, // plot writes its files through io/atomic-write.ts
  lens: 4,
  probes: 5, shortcuts: 5, bench: 5,
  explore: 6, // the explorer's server, started by cli/explore.ts
  cli: 7,
  'index.ts': 8,
};

/** Circles that another change removes (the backend rewrite adds backend/types.ts); reported, not failed. */
const KNOWN_CIRCLES: readonly string[] = [];

function libFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) libFiles(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:[^;'"]*?\sfrom\s)?\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** `lib/…` path → the `lib/…` files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const abs of libFiles(join(ROOT, 'lib'))) {
    const file = relative(ROOT, abs);
    const targets: string[] = [];
    for (const m of readFileSync(abs, 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      targets.push(normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'));
    }
    graph.set(file, targets);
  }
  return graph;
}

function part(file: string): string {
  const parts = file.split('/');
  if (parts.length === 2) return parts[1] === 'index.ts' ? 'index.ts' : '(root)';
  return parts[1]!;
}

test('the import scanner sees the imports of a known file', defaultTierOnly(), () => {
  const graph = importGraph();
  assert.ok(graph.size > 100, `${graph.size} files`);
  assert.ok(graph.get('lib/nn/load.ts')!.includes('lib/nn/registry.ts'));
  for (const [file, targets] of graph) for (const t of targets) assert.ok(graph.has(t), `${file} imports ${t}, which is not a lib file`);
});

test('no import from a lower layer to a higher one (io/data/backend never import nn, lens, linreg or cli)', defaultTierOnly(), () => {
  const bad: string[] = [];
  for (const [file, targets] of importGraph()) {
    const from = part(file);
    assert.ok(from in LAYER, `${file}: part '${from}' has no layer in LAYER (add it, and to docs/architecture.md)`);
    for (const t of targets) {
      const to = part(t);
      if (to !== from && !(LAYER[to]! < LAYER[from]!)) bad.push(`${file} (${from}, layer ${LAYER[from]}) → ${t} (${to}, layer ${LAYER[to]})`);
    }
  }
  assert.deepEqual(bad, []);
});

test('no import circles', defaultTierOnly(), (t) => {
  const graph = importGraph();
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) circles.push(component.sort().join(', '));
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  const known = circles.filter((c) => KNOWN_CIRCLES.includes(c));
  for (const c of known) t.diagnostic(`known circle (removed by the backend rewrite): ${c}`);
  for (const k of KNOWN_CIRCLES) if (!circles.includes(k)) t.diagnostic(`'${k}' is gone: remove it from KNOWN_CIRCLES`);
  assert.deepEqual(circles.filter((c) => !KNOWN_CIRCLES.includes(c)), []);
});
