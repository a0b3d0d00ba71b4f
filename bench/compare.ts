/**
 * Ratio table between two benchmark result files (a result or a suite each): for every run of the
 * first file, the run of the second with the same model shape, batch and sequence length; prints
 * median times and `ours / reference` (above 1: ours is slower).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/compare.js OURS.json REFERENCE.json [--backend wasm]
 */
import { readBenchRuns } from '../lib/bench/schema.js';
import { formatComparison, pairResults } from '../lib/bench/compare.js';

function main(): void {
  const args = process.argv.slice(2);
  const backendAt = args.indexOf('--backend');
  const backend = backendAt >= 0 ? args.splice(backendAt, 2)[1] : undefined;
  if (args.length !== 2) {
    process.stderr.write('usage: node dist/bench/compare.js OURS.json REFERENCE.json [--backend NAME]\n');
    process.exit(2);
  }
  const ours = readBenchRuns(args[0]!).filter((r) => !backend || r.backend === backend);
  const reference = readBenchRuns(args[1]!);
  const pairs = pairResults(ours, reference);
  if (!pairs.length) {
    process.stderr.write(`no run of ${args[0]}${backend ? ` on ${backend}` : ''} matches a run of ${args[1]} (same model shape, batch and seq)\n`);
    process.exit(1);
  }
  process.stdout.write(`${pairs.map(([o, r]) => formatComparison(o, r, { ours: `${o.tool} ${o.backend}`, reference: `${r.tool} ${r.backend}` })).join('\n\n')}\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
