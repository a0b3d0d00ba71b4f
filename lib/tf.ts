/**
 * The tfjs-core instance of tfjs-lens with the chained ops registered (`x.slice(…)`, `x.matMul(…)`, …).
 * tfjs-core's Node bundle does not register them (only the `@tensorflow/tfjs` union package does), and its
 * own registration modules are extension-less ES modules that Node cannot import; so they are registered
 * here, each as `tensor.op(...args)` = `tf.op(tensor, ...args)` like tfjs's `public/chained_ops/*`. The
 * types come from tfjs-core's own declarations of those methods.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';

/** Methods `x.op(...args)` that are `tf.op(x, ...args)`. */
const SAME_NAME = [
  'abs', 'acos', 'acosh', 'add', 'all', 'any', 'argMax', 'argMin', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'avgPool', 'batchToSpaceND',
  'batchNorm', 'broadcastTo', 'cast', 'ceil', 'clipByValue', 'conv1d', 'conv2d', 'conv2dTranspose', 'cos', 'cosh', 'cumprod', 'cumsum',
  'depthToSpace', 'depthwiseConv2d', 'dilation2d', 'div', 'divNoNan', 'dot', 'elu', 'equal', 'erf', 'euclideanNorm', 'exp', 'expandDims',
  'expm1', 'fft', 'floor', 'floorDiv', 'gather', 'greater', 'greaterEqual', 'ifft', 'irfft', 'isFinite', 'isInf', 'isNaN', 'leakyRelu',
  'less', 'lessEqual', 'localResponseNormalization', 'log', 'log1p', 'logSigmoid', 'logSoftmax', 'logSumExp', 'logicalAnd', 'logicalNot',
  'logicalOr', 'logicalXor', 'matMul', 'max', 'maxPool', 'maximum', 'mean', 'min', 'minimum', 'mirrorPad', 'mod', 'mul', 'neg', 'norm',
  'notEqual', 'oneHot', 'onesLike', 'pad', 'pool', 'pow', 'prelu', 'prod', 'reciprocal', 'relu', 'relu6', 'reshape', 'resizeBilinear',
  'resizeNearestNeighbor', 'reverse', 'rfft', 'round', 'rsqrt', 'selu', 'separableConv2d', 'sigmoid', 'sign', 'sin', 'sinh', 'slice',
  'softmax', 'softplus', 'spaceToBatchND', 'split', 'sqrt', 'square', 'squaredDifference', 'squeeze', 'step', 'stridedSlice', 'sub', 'sum',
  'tan', 'tanh', 'tile', 'topk', 'transpose', 'unique', 'unsortedSegmentSum', 'unstack', 'zerosLike',
] as const;

type Self = tf.Tensor & { throwIfDisposed(): void };
type Method = (this: Self, ...args: never[]) => unknown;

/** The methods whose arguments differ from the op's (as in tfjs-core's `public/chained_ops`). */
const SPECIAL: Record<string, Method> = {
  asType(this: Self, dtype: tf.DataType) { return tf.cast(this, dtype); },
  as1D(this: Self) { return tf.reshape(this, [this.size]); },
  as2D(this: Self, rows: number, columns: number) { return tf.reshape(this, [rows, columns]); },
  as3D(this: Self, rows: number, columns: number, depth: number) { return tf.reshape(this, [rows, columns, depth]); },
  as4D(this: Self, rows: number, columns: number, depth: number, depth2: number) { return tf.reshape(this, [rows, columns, depth, depth2]); },
  as5D(this: Self, rows: number, columns: number, depth: number, depth2: number, depth3: number) { return tf.reshape(this, [rows, columns, depth, depth2, depth3]); },
  asScalar(this: Self) {
    tf.util.assert(this.size === 1, () => 'The array must have only 1 element.');
    return tf.reshape(this, []);
  },
  flatten(this: Self) { return tf.reshape(this, [this.size]); },
  reshapeAs(this: Self, x: tf.Tensor) { return tf.reshape(this, x.shape); },
  toBool(this: Self) { return tf.cast(this, 'bool'); },
  toFloat(this: Self) { return tf.cast(this, 'float32'); },
  toInt(this: Self) { return tf.cast(this, 'int32'); },
  concat(this: Self, x: tf.Tensor | tf.Tensor[], axis?: number) { return tf.concat([this, ...(x instanceof tf.Tensor ? [x] : x)], axis); },
  stack(this: Self, x: tf.Tensor | tf.Tensor[], axis?: number) { return tf.stack([this, ...(x instanceof tf.Tensor ? [x] : x)], axis); },
  where(this: Self, condition: tf.Tensor, x: tf.Tensor) { return tf.where(condition, this, x); },
};

/** Registers the chained ops on tfjs-core's tensor class (idempotent; an existing method is kept). */
export function registerChainedOps(): void {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const ops = tf as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of SAME_NAME) {
    const op = ops[name];
    if (typeof op !== 'function' || typeof proto[name] === 'function') continue;
    proto[name] = function (this: Self, ...args: unknown[]) {
      this.throwIfDisposed();
      return op(this, ...args);
    };
  }
  for (const [name, impl] of Object.entries(SPECIAL)) {
    if (typeof proto[name] === 'function') continue;
    proto[name] = function (this: Self, ...args: never[]) {
      this.throwIfDisposed();
      return impl.apply(this, args);
    };
  }
}

registerChainedOps();

export { tf };
