/**
 * Runs tfjs-core's own op test suite (`@tensorflow/tfjs-core/dist/tests.js`, ~4 200 jasmine specs, shipped in
 * the npm package) against one backend as tfjs-lens sets it up, and prints one JSON line with the results.
 * `node run-suite.js <backend> [filter]`.
 *
 * The suite is ESM with extension-less imports and `sideEffects: false`, so it is bundled first with esbuild
 * (`ignoreAnnotations` keeps the side-effect-only test imports). The bundle holds its own copy of tfjs-core;
 * the engine and the kernel registry are process globals in tfjs, so the backend that tfjs-lens registers
 * (from its own tfjs-core) is the one the specs run on.
 */
import { mkdirSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import Jasmine from 'jasmine';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** What one run reports. */
export interface SuiteResult {
  backend: string;
  total: number;
  passed: number;
  failed: { name: string; message: string }[];
  /** Specs the spec filter skipped (the `filter` argument), not failures. */
  filteredOut: number;
}

/** Bundles the suite once per tfjs-core version into dist/test/conformance/.bundle/. */
async function bundle(): Promise<string> {
  const corePkg = require.resolve('@tensorflow/tfjs-core/package.json');
  const coreDist = join(dirname(corePkg), 'dist');
  const out = join(here, '.bundle', 'tfjs-core-tests.mjs');
  const entry = join(here, '.bundle', 'entry.mjs');
  if (existsSync(out) && statSync(out).mtimeMs > statSync(join(coreDist, 'tests.js')).mtimeMs) return out;
  mkdirSync(dirname(out), { recursive: true });
  // ESM evaluates imports in order: chained ops and gradients, then the test environment (describeWithFlags
  // reads it when each spec file is evaluated), then the specs. The runner registers the backend before.
  writeFileSync(join(dirname(out), 'env.mjs'), [
    `import { setTestEnvs } from ${JSON.stringify(join(coreDist, 'jasmine_util.js'))};`,
    `setTestEnvs([{ name: 'tfjs-lens', backendName: globalThis.__tfjsLensSuiteBackend, flags: {}, isDataSync: true }]);`,
  ].join('\n'));
  writeFileSync(entry, [
    `import ${JSON.stringify(join(coreDist, 'public/chained_ops/register_all_chained_ops.js'))};`,
    `import ${JSON.stringify(join(coreDist, 'register_all_gradients.js'))};`,
    "import './env.mjs';",
    `import ${JSON.stringify(join(coreDist, 'tests.js'))};`,
  ].join('\n'));
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: out,
    ignoreAnnotations: true,
    logLevel: 'error',
    // node-fetch is only probed for by the http IO specs; everything else is bundled.
    external: ['node-fetch'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return out;
}

/** Runs the suite on `backend`; `filter` keeps specs whose full name includes it. */
export async function runSuite(backend: string, filter?: string): Promise<SuiteResult> {
  const { setBackend } = (await import(pathToFileURL(join(here, '..', '..', 'lib', 'backend', 'index.js')).href)) as typeof import('../../lib/backend/index.js');
  await setBackend(backend, { verbose: false });
  (globalThis as { __tfjsLensSuiteBackend?: string }).__tfjsLensSuiteBackend = backend;
  const file = await bundle();
  const runner = new Jasmine({ globals: true });
  runner.exitOnCompletion = false;
  runner.jasmine.DEFAULT_TIMEOUT_INTERVAL = 60_000;
  const result: SuiteResult = { backend, total: 0, passed: 0, failed: [], filteredOut: 0 };
  runner.env.configure({ random: false, ...(filter ? { specFilter: (spec: { getFullName(): string }) => spec.getFullName().includes(filter) } : {}) });
  runner.env.clearReporters();
  runner.env.addReporter({
    specDone: (spec: { fullName: string; status: string; failedExpectations: { message: string }[] }) => {
      if (spec.status === 'excluded') {
        result.filteredOut++;
        return;
      }
      result.total++;
      if (spec.status === 'passed') result.passed++;
      else if (spec.status === 'failed') result.failed.push({ name: spec.fullName, message: (spec.failedExpectations[0]?.message ?? '').slice(0, 300) });
    },
  });
  await runner.execute([file]);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [backend = 'cpu', filter] = process.argv.slice(2);
  const result = await runSuite(backend, filter);
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
  process.exit(0);
}
