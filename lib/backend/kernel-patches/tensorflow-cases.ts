/**
 * Calls that tfjs-node 4.22's kernels reject or get wrong on libtensorflow and the CPU backend runs correctly; each is sent
 * to the CPU kernel (kernel-patches/cpu-bridge.ts) and every other call stays on libtensorflow. Found with
 * tfjs-core's own op suite (test/conformance). None is on a model, lens or training path.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { bridgeToCpuWhen } from './cpu-bridge.js';

/** A pooling/convolution pad tfjs-node cannot pass on: a number or explicit per-side pads (only 'same'/'valid'). */
const numericPad = (_i: tf.NamedTensorInfoMap, a: tf.NamedAttrMap) => typeof a.pad === 'number' || Array.isArray(a.pad);
const dtypeOf = (name: string, dtypes: string[]) => (i: tf.NamedTensorInfoMap) => dtypes.includes(i[name]?.dtype ?? '');

/** The cases, kernel by kernel. */
const CASES: [string, (i: tf.NamedTensorInfoMap, a: tf.NamedAttrMap) => boolean][] = [
  ['AvgPool', numericPad],
  ['MaxPool', numericPad],
  ['AvgPoolGrad', numericPad],
  ['MaxPoolGrad', numericPad],
  ['AvgPool3D', numericPad],
  ['MaxPool3D', numericPad],
  ['Conv2DBackpropInput', numericPad],
  ['Conv2DBackpropFilter', numericPad],
  // NCHW is refused by tfjs-node's fused convolution ("use NHWC").
  ['FusedConv2D', (_i, a) => a.dataFormat === 'NCHW'],
  // tfjs-node passes ScatterNd's shape so that libtensorflow rejects every call (tfjs issue 806).
  ['ScatterNd', () => true],
  // libtensorflow's Round of int32 returns zeros (tfjs-core's 'round int32' spec: [-12345678, 10, 12345678] → 0s).
  ['Round', dtypeOf('x', ['int32'])],
  // libtensorflow has no kernel for these dtypes.
  ['Diag', dtypeOf('x', ['bool'])],
  ['Greater', dtypeOf('a', ['string'])],
  ['GreaterEqual', dtypeOf('a', ['string'])],
  ['Less', dtypeOf('a', ['string'])],
  ['LessEqual', dtypeOf('a', ['string'])],
  ['LeakyRelu', dtypeOf('x', ['int32'])],
  ['Step', dtypeOf('x', ['int32'])],
];

/** Registers the CPU cases on the tensorflow backend. */
export function registerTensorflowCpuCases(backendName = 'tensorflow'): void {
  for (const [kernel, when] of CASES) bridgeToCpuWhen(backendName, kernel, when);
}
