/**
 * GPU parity (opt-in: `npm run test:gpu` on a machine with a GPU): every fixture model's hooks, logits and
 * lens within 1e-4 of Hugging Face on the webgpu backend. Skips, saying why, when no WebGPU adapter exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend } from '../../lib/backend/index.js';
import { BackendUnavailableError } from '../../lib/errors.js';
import { FIXTURE_MODELS, fixtureErrors } from '../helpers/parity.js';

const TOL = 1e-4;

for (const name of FIXTURE_MODELS) {
  test(`${name}: HF parity on webgpu within ${TOL}`, async (t) => {
    try {
      await setBackend('webgpu');
    } catch (err) {
      if (err instanceof BackendUnavailableError) return t.skip(err.message.split('\n')[0]);
      throw err;
    }
    const errors = await fixtureErrors(name);
    const worst = [...errors.entries()].sort((a, b) => b[1] - a[1])[0]!;
    t.diagnostic(`${name} webgpu: worst rel err ${worst[1].toExponential(2)} at ${worst[0]}`);
    assert.ok(worst[1] <= TOL, `worst ${worst[0]} ${worst[1]}`);
  });
}
