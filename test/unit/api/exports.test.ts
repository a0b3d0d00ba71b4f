import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setBackend } from '../../../lib/index.js';
import { testBackend } from '../../helpers/backend.js';

test('the exported tf has chained ops, typed and registered (x.slice, x.matMul, x.sum)', async () => {
  await setBackend(testBackend('cpu'));
  const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const y = x.slice([0, 1], [2, 2]).matMul(tf.ones([2, 1])).sum();
  assert.equal((await y.data())[0], 2 + 3 + 5 + 6);
  const flat = x.flatten();
  assert.deepEqual(flat.shape, [6]);
  const both = x.concat(x, 0).asType('int32');
  assert.deepEqual([both.shape, both.dtype], [[4, 3], 'int32']);
  tf.dispose([x, y, flat, both]);
});
