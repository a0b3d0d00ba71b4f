/**
 * Bench: fit all 78 linear shortcuts A_{j,i} (0 ≤ i < j ≤ 12) of a GPT-2-small-sized problem
 * (d = 768, N = 9000 samples, random states) and print the wall time. No assertion.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/linreg.js [--threads T] [--device host|tfjs] [--d 768] [--n 9000] [--L 12]
 */
import { availableParallelism } from 'node:os';
import { fitAllShortcuts } from '../lib/linreg/index.js';
import { GemmEngine } from '../lib/linreg/gemm-engine.js';
import { createRng } from '../lib/math/rng.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const d = Number(arg('d', '768'));
const n = Number(arg('n', '9000'));
const L = Number(arg('L', '12'));
const threads = Number(arg('threads', String(availableParallelism())));
const device = arg('device', 'host') as 'host' | 'tfjs';

async function main(): Promise<void> {
  if (device === 'tfjs') {
    const { setBackend } = await import('../lib/backend/index.js');
    const active = await setBackend(process.env.TFJS_LENS_BACKEND ?? 'auto', { verbose: false });
    console.log(`tfjs backend: ${active.detail}`);
  }
  const rng = createRng(1234);
  const t0 = performance.now();
  // h_0 random, h_{l+1} = h_l + noise: correlated layers like a residual stream.
  const states: Float32Array[] = [];
  let prev = new Float32Array(n * d);
  for (let k = 0; k < prev.length; k++) prev[k] = rng.uniform() - 0.5;
  states.push(prev);
  for (let l = 1; l <= L; l++) {
    const next = new Float32Array(n * d);
    for (let k = 0; k < next.length; k++) next[k] = prev[k]! + 0.5 * (rng.uniform() - 0.5);
    states.push(next);
    prev = next;
  }
  const tData = performance.now();
  const engineInfo = GemmEngine.create({ threads: 1 });
  console.log(`data: ${L + 1} layers × [${n}, ${d}] float32 generated in ${((tData - t0) / 1000).toFixed(1)} s`);
  console.log(`kernel: ${engineInfo.usesWasm ? 'WebAssembly SIMD f64x2' : 'JavaScript fallback'}, threads: ${threads}, device: ${device}`);
  let maps = 0;
  const t1 = performance.now();
  await fitAllShortcuts((l) => states[l]!, L, d, { threads, device, onMap: () => void maps++, keep: false });
  const seconds = (performance.now() - t1) / 1000;
  const pairs = ((L + 1) * L) / 2;
  const fma = pairs * n * d * d + L * n * d * d * 0.5 + pairs * d * d * d;
  console.log(`fitted ${maps} maps (d=${d}, N=${n}) in ${seconds.toFixed(2)} s  (~${(fma / seconds / 1e9).toFixed(1)} G multiply-adds/s)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
