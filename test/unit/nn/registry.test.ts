import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel, modelTypeOfName } from '../../../lib/nn/load.js';
import { MODEL_FAMILIES } from '../../../lib/nn/registry.js';
import { HookedGPT2 } from '../../../lib/nn/gpt2.js';
import { HookedBert } from '../../../lib/nn/bert.js';
import { HookedGPTNeoX } from '../../../lib/nn/gpt-neox.js';
import { HookedGemma } from '../../../lib/nn/gemma.js';
import type { HookedWhisper } from '../../../lib/nn/whisper.js';
import type { HookedViT } from '../../../lib/nn/vit.js';
import { HookedLlama } from '../../../lib/nn/llama.js';
import { ConfigError, NotCachedError, UnknownHookError } from '../../../lib/errors.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

before(async () => {
  await setBackend(testBackend('wasm'));
});

test('registry: one entry per model_type; loadModel with modelType is typed and checks the checkpoint', async () => {
  assert.deepEqual(Object.keys(MODEL_FAMILIES).sort(), ['bert', 'gemma2', 'gemma3', 'gemma3_text', 'gpt2', 'gpt_neox', 'llama', 'mistral', 'qwen2', 'vit', 'whisper']);
  const gpt2: HookedGPT2 = await loadModel(fixtureDir('gpt2-tiny'), { modelType: 'gpt2' }); // no cast needed
  assert.ok(gpt2 instanceof HookedGPT2);
  gpt2.dispose();
  const bert: HookedBert = await loadModel(fixtureDir('bert-tiny'), { modelType: 'bert' });
  assert.ok(bert instanceof HookedBert);
  bert.dispose();
  const pythia: HookedGPTNeoX = await loadModel(fixtureDir('pythia-tiny'), { modelType: 'gpt_neox' });
  assert.ok(pythia instanceof HookedGPTNeoX && pythia.cfg.parallelResidual && pythia.cfg.rope.rotaryDim === 4);
  pythia.dispose();
  for (const [name, type] of [['gemma2-tiny', 'gemma2'], ['gemma3-tiny', 'gemma3_text']] as const) {
    const gemma: HookedGemma = await loadModel(fixtureDir(name), { modelType: type });
    assert.ok(gemma instanceof HookedGemma && gemma.cfg.modelType === type);
    gemma.dispose();
  }
  const llama: HookedLlama = await loadModel(fixtureDir('qwen2-tiny'), { modelType: 'qwen2' });
  assert.ok(llama instanceof HookedLlama);
  llama.dispose();
  await assert.rejects(loadModel(fixtureDir('gpt2-tiny'), { modelType: 'vit' }), (err: unknown) => err instanceof ConfigError && /'gpt2', not the 'vit'/.test(err.message));
});

test('hub ids of the known families are typed without a cast', () => {
  assert.equal(modelTypeOfName('gpt2'), 'gpt2');
  assert.equal(modelTypeOfName('openai-community/gpt2-xl'), 'gpt2');
  assert.equal(modelTypeOfName('openai/whisper-tiny'), 'whisper');
  assert.equal(modelTypeOfName('google/vit-base-patch16-224'), 'vit');
  assert.equal(modelTypeOfName('bert-base-uncased'), 'bert');
  assert.equal(modelTypeOfName('EleutherAI/pythia-70m'), 'gpt_neox');
  assert.equal(modelTypeOfName('google/gemma-2-2b'), 'gemma2');
  assert.equal(modelTypeOfName('weights/tiny-gpt2'), undefined);
  // Compile-time only (never called): each line fails to compile if the overloads lose their types.
  const typed = async (): Promise<void> => {
    const a: HookedGPT2 = await loadModel('gpt2-xl');
    const b: HookedWhisper = await loadModel('openai/whisper-tiny');
    const c: HookedViT = await loadModel('google/vit-base-patch16-224');
    const d: HookedBert = await loadModel('bert-base-uncased');
    const e: HookedGPTNeoX = await loadModel('EleutherAI/pythia-70m');
    const f: HookedGemma = await loadModel('google/gemma-2-2b');
    void [a, b, c, d, e, f];
  };
  void typed;
});

test("cache.get of a valid hook that was not cached says so and lists what namesFilter kept", async () => {
  const model = await loadModel(fixtureDir('gpt2-tiny'), { modelType: 'gpt2' });
  const { output, cache } = await model.runWithCache([[1, 2, 3]], { namesFilter: ['blocks.0.hook_resid_post'] });
  assert.throws(() => cache.get('blocks.1.hook_resid_post'), (err: unknown) => err instanceof NotCachedError && /not cached/.test(err.message) && /blocks\.0\.hook_resid_post/.test(err.hint));
  assert.throws(() => cache.get('resid_post', 1), NotCachedError);
  assert.throws(() => cache.get('blocks.1.hook_resid_psot'), (err: unknown) => err instanceof UnknownHookError && err.suggestions.includes('blocks.1.hook_resid_post'));
  output.dispose();
  cache.dispose();
  model.dispose();
});
