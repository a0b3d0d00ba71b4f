/**
 * Hugging Face parity of the Gemma 2, Gemma 3 (text) and Pythia / GPT-NeoX fixtures
 * (scripts/fixtures/make_gemma_neox_fixtures.py) beyond models.test.ts (which compares every hook, `logits` and
 * `lens.logits` of them within PARITY_TOL): a left-padded batch with its attention mask at every real position; and
 * near misses — the same weights with one feature of config.json changed (soft-capping, sliding window, local rope base, rotary_pct, parallel
 * residual) land far above the bar, so each feature is exercised by the fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import type { HookedRotaryLM, RotaryLmConfig } from '../../lib/nn/rotary-lm.js';
import { PARITY_TOL, assertPaddedParity } from '../helpers/parity.js';
import { fixtureDir, intRows, readFixture, relError } from '../helpers/fixtures.js';
import { testBackends } from '../helpers/backend.js';

const FIXTURES = ['pythia-tiny', 'pythia-seq-tiny', 'gemma2-tiny', 'gemma3-tiny'] as const;

for (const name of FIXTURES) {
  test(`${name}: a left-padded batch with an attention mask matches HF at every real position`, async (t) => {
    await setBackend(testBackends(['cpu'] as const)[0]!);
    await assertPaddedParity(t, name, name);
  });
}

/** The fixture's weights with config.json changed by `edit`, in a temporary folder. */
async function withConfig(name: string, edit: (cfg: Record<string, unknown>) => void, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `${name}-`));
  try {
    const cfg = JSON.parse(await readFile(join(fixtureDir(name), 'config.json'), 'utf8')) as Record<string, unknown>;
    edit(cfg);
    await writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
    await copyFile(join(fixtureDir(name), 'model.safetensors'), join(dir, 'model.safetensors'));
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const NEAR_MISSES: [string, (typeof FIXTURES)[number], (cfg: Record<string, unknown>) => void][] = [
  ['no attention soft-capping', 'gemma2-tiny', (c) => void (c.attn_logit_softcapping = null)],
  ['no final soft-capping', 'gemma2-tiny', (c) => void (c.final_logit_softcapping = null)],
  ['no sliding window', 'gemma2-tiny', (c) => void (c.sliding_window = 64)],
  ['query_pre_attn_scalar = head_dim', 'gemma2-tiny', (c) => void (c.query_pre_attn_scalar = 16)],
  ['the global rope base on local layers', 'gemma3-tiny', (c) => void (c.rope_local_base_freq = c.rope_theta)],
  ['no linear rope scaling', 'gemma3-tiny', (c) => void (c.rope_scaling = null)],
  ['every layer global', 'gemma3-tiny', (c) => void (c.sliding_window_pattern = 1)],
  ['rotary_pct 0.5', 'pythia-tiny', (c) => void (c.rotary_pct = 0.5)],
  ['sequential residual', 'pythia-tiny', (c) => void (c.use_parallel_residual = false)],
  ['parallel residual', 'pythia-seq-tiny', (c) => void (c.use_parallel_residual = true)],
];

for (const [what, name, edit] of NEAR_MISSES) {
  test(`${name} with ${what} misses the HF logits by far more than the bar`, async () => {
    await setBackend(testBackends(['cpu'] as const)[0]!);
    await withConfig(name, edit, async (dir) => {
      const { inputs, expected } = await readFixture(name);
      const model = (await loadModel(dir)) as unknown as HookedRotaryLM<RotaryLmConfig>;
      const logits = await model.forward(intRows(inputs.get('input_ids')!));
      const err = relError(await logits.data(), expected.get('logits')!.data);
      logits.dispose();
      model.dispose();
      assert.ok(err > 100 * PARITY_TOL, `logits rel err ${err}`);
    });
  });
}
