/**
 * GPU parity (`npm run test:gpu` on a GPU machine; the webgpu tier of `npm test` where a WebGPU adapter exists):
 * every fixture model's hooks, logits and lens within 1e-5 of Hugging Face on `cuda` (tensorflow on an NVIDIA
 * GPU) and on `webgpu`. Each backend skips, saying why, when it is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend } from '../../lib/backend/index.js';
import { BackendUnavailableError } from '../../lib/errors.js';
import { FIXTURE_MODELS, PARITY_TOL, fixtureErrors } from '../helpers/parity.js';

const TOL = PARITY_TOL; // 1e-5; SwiftShader measured 7.9e-7 worst

for (const backend of ['cuda', 'webgpu'] as const) {
  for (const name of FIXTURE_MODELS) {
    test(`${name}: HF parity on ${backend} within ${TOL}`, async (t) => {
      try {
        const active = await setBackend(backend);
        t.diagnostic(active.detail);
      } catch (err) {
        if (err instanceof BackendUnavailableError) return t.skip(err.message.split('\n')[0]);
        throw err;
      }
      const errors = await fixtureErrors(name);
      const worst = [...errors.entries()].sort((a, b) => b[1] - a[1])[0]!;
      t.diagnostic(`${name} ${backend}: worst rel err ${worst[1].toExponential(2)} at ${worst[0]}`);
      assert.ok(worst[1] <= TOL, `worst ${worst[0]} ${worst[1]}`);
    });
  }
}
