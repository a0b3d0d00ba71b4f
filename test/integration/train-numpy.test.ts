/**
 * The NumPy training recipe of the shipped model (weights/train/train_numpy.py) must compute the same GPT-2
 * as the library and exact gradients. Runs where python3 has NumPy (the development machine); skips with
 * the reason elsewhere (NumPy is not a dependency of the package).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setBackend } from '../../lib/backend/index.js';
import { loadModel } from '../../lib/nn/load.js';
import { HookedGPT2 } from '../../lib/nn/gpt2.js';
import { ROOT } from '../helpers/fixtures.js';
import { testBackend } from '../helpers/backend.js';

const SCRIPT = join(ROOT, 'weights', 'train', 'train_numpy.py');
const MODEL_DIR = join(ROOT, 'weights', 'tiny-gpt2');

/** Why the tests cannot run here (no python3, or no numpy), or null; probed once for both tests. */
const numpyMissing: string | null = (() => {
  const r = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (r.error) return `python3 not found (${r.error.message})`;
  return r.status === 0 ? null : 'python3 has no numpy';
})();

test('train_numpy.py: analytic gradients match float64 central differences on a 2-layer toy', (t) => {
  if (numpyMissing) return t.skip(numpyMissing);
  const r = spawnSync('python3', [SCRIPT, '--gradcheck'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const rows = r.stdout.trim().split('\n');
  assert.equal(rows.length, 2 * 12 + 4 + 1, 'one line per parameter of the toy (2 blocks × 12 + wte, wpe, ln_f ×2) and the total');
  const worst = Number(/worst (\S+)/.exec(rows.at(-1)!)![1]);
  assert.ok(worst < 1e-6, `worst relative gradient error ${worst}`);
});

test('train_numpy.py computes the same logits as loadModel on the shipped checkpoint', async (t) => {
  if (numpyMissing) return t.skip(numpyMissing);
  await setBackend(testBackend('wasm'));
  const model = await loadModel(MODEL_DIR);
  assert.ok(model instanceof HookedGPT2);
  const ids = [model.cfg.bosTokenId!, ...model.tokenizer!.encode('The capital city of France is Paris. The capital')];
  const r = spawnSync('python3', [SCRIPT, '--logits-of', MODEL_DIR, '--token-ids', ids.join(',')], { encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, r.stderr);
  const numpyLogits = JSON.parse(r.stdout) as number[];
  const logits = await model.forward([ids]);
  const last = tf.tidy(() => tf.reshape(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1]), [-1]));
  const ours = await last.data();
  tf.dispose([logits, last]);
  model.dispose();
  assert.equal(numpyLogits.length, ours.length);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i]! - numpyLogits[i]!));
    scale = Math.max(scale, Math.abs(numpyLogits[i]!));
  }
  assert.ok(scale > 1, 'logits are not all ~0');
  assert.ok(worst / scale < 1e-5, `max |Δ logit| ${worst} (scale ${scale})`);
});

test('train_numpy.py --grow-from: zero copies keep the logits exactly; split copies share each output projection', (t) => {
  if (numpyMissing) return t.skip(numpyMissing);
  // grows the shipped 4-block model ×2 (zero) and ×4 (split) in NumPy and compares with the original's forward
  const code = `
import sys, json
sys.path.insert(0, ${JSON.stringify(join(ROOT, 'weights', 'train'))})
import numpy as np
from train_numpy import Gpt2, grow_params, load_safetensors
p = load_safetensors(${JSON.stringify(join(MODEL_DIR, 'model.safetensors'))})
ids = np.array([[4095, 17, 230, 1024, 7, 99, 3000, 12]])
base = Gpt2(p, 4).forward(ids)[1]
zero = grow_params(p, 2, 'zero')
split = grow_params(p, 4, 'split')
share = max(float(np.abs(sum(split[f'h.{4 * i + c}.{n}'] for c in range(4)) - p[f'h.{i}.{n}']).max())
            for i in range(4) for n in ('attn.c_proj.weight', 'attn.c_proj.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias'))
same = max(float(np.abs(split[f'h.{4 * i + c}.{n}'] - p[f'h.{i}.{n}']).max()) for i in range(4) for c in range(4) for n in ('ln_1.weight', 'attn.c_attn.weight', 'mlp.c_fc.weight'))
print(json.dumps({'zeroLayers': Gpt2(zero, 4).n_layers, 'zeroDiff': float(np.abs(Gpt2(zero, 4).forward(ids)[1] - base).max()),
                  'splitLayers': Gpt2(split, 4).n_layers, 'splitDiff': float(np.abs(Gpt2(split, 4).forward(ids)[1] - base).max()), 'share': share, 'same': same}))
`;
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const g = JSON.parse(r.stdout) as { zeroLayers: number; zeroDiff: number; splitLayers: number; splitDiff: number; share: number; same: number };
  assert.equal(g.zeroLayers, 8);
  assert.equal(g.zeroDiff, 0, 'zero-output copies add nothing to the residual stream');
  assert.equal(g.splitLayers, 16);
  assert.ok(g.share < 1e-6, `the four copies' output projections sum to the block's (max error ${g.share})`);
  assert.equal(g.same, 0, 'every other weight is copied unchanged');
  assert.ok(g.splitDiff > 1e-4, `split growth is the same function only to first order (max logit change ${g.splitDiff})`);
});
