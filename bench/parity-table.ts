/**
 * Generates docs/parity.md: per model, per hook, the relative error ‖ours − HF‖/‖HF‖ against the
 * Hugging Face reference activations in test/fixtures/hf, on each CPU backend.
 * Run: `npm run build && node dist/bench/parity-table.js [--out docs/parity.md]`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setBackend } from '../lib/backend/index.js';
import { ROOT } from '../test/helpers/fixtures.js';
import { FIXTURE_MODELS as MODELS, fixtureErrors } from '../test/helpers/parity.js';
const BACKENDS = ['wasm', 'cpu'] as const;

async function main(): Promise<void> {
  const outIndex = process.argv.indexOf('--out');
  const out = outIndex >= 0 ? process.argv[outIndex + 1]! : join(ROOT, 'docs', 'parity.md');
  const sections: string[] = [];
  const summary: string[] = [];
  for (const name of MODELS) {
    const perBackend = new Map<string, Map<string, number>>();
    for (const backend of BACKENDS) {
      await setBackend(backend);
      perBackend.set(backend, await fixtureErrors(name));
    }
    const keys = [...perBackend.get(BACKENDS[0])!.keys()];
    const rows = keys.map((k) => `| \`${k}\` | ${BACKENDS.map((b) => perBackend.get(b)!.get(k)!.toExponential(1)).join(' | ')} |`);
    const worst = BACKENDS.map((b) => Math.max(...perBackend.get(b)!.values()).toExponential(1));
    summary.push(`| ${name} | ${keys.length} | ${worst.join(' | ')} |`);
    sections.push(`## ${name}\n\n| tensor | ${BACKENDS.join(' | ')} |\n|---|${BACKENDS.map(() => '---').join('|')}|\n${rows.join('\n')}\n`);
  }
  const text = `# Parity with Hugging Face transformers (generated)\n\nRelative error ‖ours − HF‖ / ‖HF‖ of every reference tensor in \`test/fixtures/hf\`\n(HF transformers 5.17 + PyTorch 2.11; bert-tiny regenerated with 5.18 + 2.13 by \`scripts/fixtures/make_bert_fixture.py\`; the Llama-family fixtures (llama-tiny, llama-mha, mistral-tiny, qwen2-tiny) made with 5.18 + 2.13 by \`scripts/fixtures/make_llama_fixtures.py\`; pythia-tiny, pythia-seq-tiny, gemma2-tiny, gemma3-tiny by \`scripts/fixtures/make_gemma_neox_fixtures.py\`; fp32), per backend. Masked (−∞) attention scores count as equal when both are −∞.\nRegenerate with \`npm run build && node dist/bench/parity-table.js\`. The tests (\`test/parity/\`) assert ≤ 1e-5 (\`PARITY_TOL\`) on the CPU backends, models and preprocessing alike, and \`test/parity/near-miss.test.ts\` checks that a wrong GELU variant or layer-norm ε fails that bar.\n\n| model | tensors | worst ${BACKENDS.join(' | worst ')} |\n|---|---|${BACKENDS.map(() => '---').join('|')}|\n${summary.join('\n')}\n\n${sections.join('\n')}`;
  await writeFile(out, text);
  process.stdout.write(`${summary.join('\n')}\nwrote ${out}\n`);
}

await main();
