import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { setBackend } from '../../../lib/backend/index.js';
import { loadModel } from '../../../lib/nn/load.js';
import { HookedWhisper } from '../../../lib/nn/whisper.js';
import { ShapeMismatchError } from '../../../lib/errors.js';
import { fixtureDir } from '../../helpers/fixtures.js';
import { testBackend } from '../../helpers/backend.js';

test('Whisper takes a WAV path as input; features of the wrong length are refused by name, without leaks', async () => {
  await setBackend(testBackend('cpu'));
  const model = await loadModel(fixtureDir('whisper-tiny'));
  assert.ok(model instanceof HookedWhisper);
  const before = tf.memory().numTensors;
  // whisper-tiny (fixture) has 30 source positions = 60 frames; real checkpoints take the 3000 frames of 30 s audio.
  await assert.rejects(
    model.forward({ audio: join(fixtureDir('whisper-features-80'), 'audio.wav'), decoderInputIds: [[1, 2]] }),
    (err: unknown) => err instanceof ShapeMismatchError && /3000/.test((err as Error).message),
  );
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
