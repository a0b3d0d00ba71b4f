/**
 * Generates docs/parity.md: per model, per hook, the relative error ‖ours − HF‖/‖HF‖ against the
 * Hugging Face reference activations in test/fixtures/hf, on each CPU backend.
 * Run: `npm run build && node dist/bench/parity-table.js [--out docs/parity.md]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setBackend } from '../lib/backend/index.js';
import { loadModel, type HookedModel } from '../lib/nn/load.js';
import { logitLens } from '../lib/lens/logit-lens.js';
import type { ActivationCache } from '../lib/nn/activation-cache.js';
import type { HostTensor } from '../lib/io/safetensors.js';
import { fixtureDir, readFixture, relError, ROOT } from '../test/helpers/fixtures.js';

const MODELS = ['gpt2-tiny', 'vit-tiny', 'whisper-tiny', 'bert-tiny'] as const;
const BACKENDS = ['wasm', 'cpu'] as const;

function toTensor(h: HostTensor): tf.Tensor {
  return tf.tensor(h.data, h.shape, h.dtype);
}

function modelInput(name: string, inputs: Map<string, HostTensor>): { input: unknown; owned: tf.Tensor[] } {
  if (name === 'vit-tiny') {
    const t = toTensor(inputs.get('pixel_values')!);
    return { input: t, owned: [t] };
  }
  if (name === 'whisper-tiny') {
    const f = toTensor(inputs.get('input_features')!);
    const d = toTensor(inputs.get('decoder_input_ids')!);
    return { input: { inputFeatures: f, decoderInputIds: d }, owned: [f, d] };
  }
  const ids = toTensor(inputs.get('input_ids')!);
  return { input: ids, owned: [ids] };
}

/** Fixture key → our hook name (BERT's `hidden_states.N` are block outputs). */
function hookFor(name: string, key: string): string {
  const m = /^hidden_states\.(\d+)$/.exec(key);
  if (name === 'bert-tiny' && m) return Number(m[1]) === 0 ? 'blocks.0.hook_resid_pre' : `blocks.${Number(m[1]) - 1}.hook_resid_post`;
  return key;
}

async function errorsFor(name: string): Promise<Map<string, number>> {
  const { inputs, expected } = await readFixture(name);
  const model = (await loadModel(fixtureDir(name))) as HookedModel & { runWithCache(i: unknown): Promise<{ output: tf.Tensor; cache: ActivationCache }> };
  const { input, owned } = modelInput(name, inputs);
  const { output, cache } = await model.runWithCache(input);
  const errors = new Map<string, number>();
  for (const [key, ref] of expected) {
    let got: Float32Array;
    if (key === 'logits') got = (await output.data()) as Float32Array;
    else if (key === 'lens.logits') {
      const lens = logitLens(model as never, cache);
      got = (await lens.data()) as Float32Array;
      lens.dispose();
    } else got = (await cache.get(hookFor(name, key)).data()) as Float32Array;
    errors.set(key, relError(got, ref.data));
  }
  output.dispose();
  cache.dispose();
  for (const t of owned) t.dispose();
  model.dispose();
  return errors;
}

async function main(): Promise<void> {
  const outIndex = process.argv.indexOf('--out');
  const out = outIndex >= 0 ? process.argv[outIndex + 1]! : join(ROOT, 'docs', 'parity.md');
  const sections: string[] = [];
  const summary: string[] = [];
  for (const name of MODELS) {
    const perBackend = new Map<string, Map<string, number>>();
    for (const backend of BACKENDS) {
      await setBackend(backend);
      perBackend.set(backend, await errorsFor(name));
    }
    const keys = [...perBackend.get(BACKENDS[0])!.keys()];
    const rows = keys.map((k) => `| \`${k}\` | ${BACKENDS.map((b) => perBackend.get(b)!.get(k)!.toExponential(1)).join(' | ')} |`);
    const worst = BACKENDS.map((b) => Math.max(...perBackend.get(b)!.values()).toExponential(1));
    summary.push(`| ${name} | ${keys.length} | ${worst.join(' | ')} |`);
    sections.push(`## ${name}\n\n| tensor | ${BACKENDS.join(' | ')} |\n|---|${BACKENDS.map(() => '---').join('|')}|\n${rows.join('\n')}\n`);
  }
  const text = `# Parity with Hugging Face transformers (generated)\n\nRelative error ‖ours − HF‖ / ‖HF‖ of every reference tensor in \`test/fixtures/hf\`\n(HF transformers 5.17, PyTorch 2.11, fp32), per backend. Masked (−∞) attention scores count as equal when both are −∞.\nRegenerate with \`npm run build && node dist/bench/parity-table.js\`. The tests (\`test/parity/\`) assert ≤ 1e-4.\n\n| model | tensors | worst ${BACKENDS.join(' | worst ')} |\n|---|---|${BACKENDS.map(() => '---').join('|')}|\n${summary.join('\n')}\n\n${sections.join('\n')}`;
  await writeFile(out, text);
  process.stdout.write(`${summary.join('\n')}\nwrote ${out}\n`);
}

await main();
