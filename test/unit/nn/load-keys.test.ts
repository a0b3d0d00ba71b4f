/**
 * loadModel checks that config.json and the weights agree: tensors the model never reads and expected tensors
 * that are absent are a CheckpointError listing them (capped), except each family's known harmless extras
 * (GPT-2's attn.bias buffers, BERT's pooler / next-sentence head / position_ids, ViT's pooler, tied copies).
 * The checkpoints are fixtures modified here and written with saveSafetensors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { readAllSafetensors } from '../../../lib/io/safetensors.js';
import { saveSafetensors, type HostValues } from '../../../lib/io/safetensors-writer.js';
import { CheckpointError } from '../../../lib/errors.js';
import { openCheckpoint } from '../../../lib/io/checkpoint.js';
import { PLACEHOLDER_BYTES, TrackedCheckpoint } from '../../../lib/io/convert/key-check.js';
import { ROOT, fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

type Tensors = Map<string, HostValues>;

const made: string[] = [];

/** A copy of a fixture checkpoint with its config edited and its tensors changed by `edit`. */
async function variant(fixture: string, config: Record<string, unknown>, edit: (tensors: Tensors) => void = () => {}): Promise<string> {
  const source = fixture.includes('/') ? join(ROOT, fixture) : fixtureDir(fixture);
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-keys-'));
  made.push(dir);
  const json = JSON.parse(readFileSync(join(source, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...json, ...config }));
  const tensors: Tensors = new Map();
  for (const [k, v] of await readAllSafetensors(join(source, 'model.safetensors'))) tensors.set(k, { shape: v.shape, data: v.data as Float32Array });
  edit(tensors);
  await saveSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

function zeros(...shape: number[]): HostValues {
  return { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
}

/** Rejects with a CheckpointError whose message matches every pattern; no tensor is left behind. */
async function rejectsListing(dir: string, ...patterns: RegExp[]): Promise<string> {
  const before = tf.memory().numTensors;
  let message = '';
  await assert.rejects(loadModel(dir), (err: unknown) => {
    assert.ok(err instanceof CheckpointError, `expected CheckpointError, got ${String(err)}`);
    message = err.message;
    for (const p of patterns) assert.match(message, p);
    return true;
  });
  assert.equal(tf.memory().numTensors, before, 'a failed load left tensors behind');
  return message;
}

test.after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

test('the fixtures and weights/tiny-gpt2 load: every tensor used or a known extra', async () => {
  await setBackend(testBackend('cpu'));
  for (const dir of ['gpt2-tiny', 'bert-tiny', 'vit-tiny', 'whisper-tiny'].map(fixtureDir).concat(join(ROOT, 'weights', 'tiny-gpt2'))) {
    const model = await loadModel(dir);
    model.dispose();
  }
});

test('n_layer smaller than the checkpoint: the extra block is listed as unused', async () => {
  await setBackend(testBackend('cpu'));
  const dir = await variant('gpt2-tiny', { n_layer: 2 });
  const message = await rejectsListing(dir, /does not match its config\.json/, /12 tensors are not used by the model: 'transformer\.h\.2\.attn\.c_attn\.bias'/, /and 4 more/);
  assert.doesNotMatch(message, /missing/);
});

test('n_layer larger than the checkpoint: every missing tensor of the absent block is counted', async () => {
  await setBackend(testBackend('cpu'));
  const dir = await variant('gpt2-tiny', { n_layer: 4 });
  await rejectsListing(dir, /12 expected tensors are missing: 'transformer\.h\.3\.attn\.c_attn\.weight'/, /and 4 more/);
});

test('n_layer far above the checkpoint stops early instead of allocating zeros for every absent block', async () => {
  await setBackend(testBackend('cpu'));
  const dir = await variant('gpt2-tiny', { n_layer: 100_000 });
  const start = performance.now();
  const message = await rejectsListing(dir, /at least \d+ expected tensors are missing \(the conversion stopped early\): 'transformer\.h\.3\.attn\.c_attn\.weight'/);
  assert.doesNotMatch(message, /not used/);
  assert.ok(performance.now() - start < 20_000, 'stopped early');
});

test('missing tensors larger than the placeholder budget stop the conversion at once', async () => {
  const ckpt = new TrackedCheckpoint(await openCheckpoint(fixtureDir('gpt2-tiny')));
  try {
    ckpt.noteMissing('a.weight', 16);
    assert.throws(() => ckpt.noteMissing('b.weight', PLACEHOLDER_BYTES / 4), (err: unknown) => err instanceof CheckpointError && /at least 2 expected tensors are missing \(the conversion stopped early\): 'a\.weight', 'b\.weight'$/m.test(err.message));
  } finally {
    await ckpt.close();
  }
});

test('tie_word_embeddings false: lm_head.weight is required, and used when present', async () => {
  await setBackend(testBackend('cpu'));
  await rejectsListing(await variant('gpt2-tiny', { tie_word_embeddings: false }), /1 expected tensor is missing: 'lm_head\.weight'$/m);
  const untied = await variant('gpt2-tiny', { tie_word_embeddings: false }, (t) => t.set('lm_head.weight', zeros(...t.get('transformer.wte.weight')!.shape)));
  const model = await loadModel(untied, { modelType: 'gpt2' });
  const logits = await model.forward([[1, 2, 3]] as never);
  assert.equal(tf.max(tf.abs(logits)).dataSync()[0], 0, 'the stored lm_head (zeros) is the unembedding');
  logits.dispose();
  model.dispose();
  await rejectsListing(await variant('whisper-tiny', { tie_word_embeddings: false }), /missing: 'proj_out\.weight'/);
  await rejectsListing(await variant('bert-tiny', { tie_word_embeddings: false }), /missing: 'cls\.predictions\.decoder\.weight'/);
});

test('a tied lm_head copy, GPT-2 buffers, BERT pooler / NSP head / position_ids and a ViT pooler are allowed', async () => {
  await setBackend(testBackend('cpu'));
  const dirs = [
    await variant('gpt2-tiny', {}, (t) => {
      t.set('lm_head.weight', t.get('transformer.wte.weight')!);
      t.set('transformer.h.0.attn.masked_bias', zeros());
    }),
    await variant('bert-tiny', {}, (t) => {
      t.set('bert.pooler.dense.weight', zeros(64, 64));
      t.set('bert.pooler.dense.bias', zeros(64));
      t.set('cls.seq_relationship.weight', zeros(2, 64));
      t.set('cls.seq_relationship.bias', zeros(2));
      t.set('bert.embeddings.position_ids', { shape: [1, 4], data: new Int32Array(4) });
    }),
    await variant('vit-tiny', {}, (t) => {
      t.set('vit.pooler.dense.weight', zeros(64, 64));
      t.set('vit.pooler.dense.bias', zeros(64));
    }),
  ];
  for (const dir of dirs) (await loadModel(dir)).dispose();
});

test('tensors of another module or model are unused; the list is capped', async () => {
  await setBackend(testBackend('cpu'));
  await rejectsListing(
    await variant('gpt2-tiny', {}, (t) => t.set('multiple_choice_head.summary.weight', zeros(2, 2))),
    /1 tensor is not used by the model: 'multiple_choice_head\.summary\.weight'$/m,
  );
  const many = await variant('vit-tiny', {}, (t) => {
    for (let i = 0; i < 20; i++) t.set(`extra.${i}`, zeros(1));
  });
  const message = await rejectsListing(many, /20 tensors are not used by the model: 'extra\.0', 'extra\.1', 'extra\.2'/, /'extra\.7' and 12 more/);
  assert.doesNotMatch(message, /extra\.8'/);
});

test('missing and unused together: one error lists both (Whisper decoder layers off by one)', async () => {
  await setBackend(testBackend('cpu'));
  const json = JSON.parse(readFileSync(join(fixtureDir('whisper-tiny'), 'config.json'), 'utf8')) as { decoder_layers: number };
  const dir = await variant('whisper-tiny', { decoder_layers: json.decoder_layers + 1 }, (t) => t.set('model.decoder.stray', zeros(3)));
  await rejectsListing(dir, new RegExp(`expected tensors are missing: 'model\\.decoder\\.layers\\.${json.decoder_layers}\\.`), /1 tensor is not used by the model: 'model\.decoder\.stray'/);
});
