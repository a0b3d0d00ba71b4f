/**
 * Per-op CPU fallback for the wasm backend: every kernel registered on `cpu` but missing on `wasm`
 * (Einsum, FFT, UnsortedSegmentSum, … in tfjs 4.22) is registered on `wasm` as a bridge that copies the
 * inputs to the CPU backend, runs the CPU kernel there and copies the outputs back into wasm memory.
 * Correct but slow; `listCpuFallbacks()` tells which kernels go this way.
 */
import * as tf from '@tensorflow/tfjs-core';

type AnyBackend = tf.KernelBackend & {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  makeOutput?(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeData(dataId: object): boolean;
};

const installed: string[] = [];

/** Registers CPU bridges on `backendName` for every CPU kernel it lacks; returns their names. */
export function installCpuFallbacks(backendName = 'wasm'): string[] {
  const present = new Set(tf.getKernelsForBackend(backendName).map((k) => k.kernelName));
  for (const cpuKernel of tf.getKernelsForBackend('cpu')) {
    if (present.has(cpuKernel.kernelName)) continue;
    tf.registerKernel({
      kernelName: cpuKernel.kernelName,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const target = backend as AnyBackend;
        const cpu = tf.findBackend('cpu') as AnyBackend & { firstUse?: boolean };
        cpu.firstUse = false; // no 'install tfjs-node' banner: this bridge is deliberate
        // Most kernels take a name → tensor map; a few (Einsum, Concat, AddN…) take an array: keep the form.
        const toCpu = (info: tf.TensorInfo) => cpu.makeTensorInfo!(info.shape, info.dtype, target.readSync(info.dataId));
        const cpuInputs: Record<string, tf.TensorInfo> | tf.TensorInfo[] = Array.isArray(inputs)
          ? (inputs as tf.TensorInfo[]).map(toCpu)
          : Object.fromEntries(Object.entries(inputs).filter(([, info]) => info).map(([name, info]) => [name, toCpu(info!)]));
        try {
          const result = cpuKernel.kernelFunc({ inputs: cpuInputs as tf.NamedTensorInfoMap, backend: cpu, attrs });
          const outputs = (Array.isArray(result) ? result : [result]).map((out) => {
            const values = cpu.readSync(out.dataId);
            cpu.disposeData(out.dataId);
            return target.makeOutput!(out.shape, out.dtype, undefined, values);
          });
          return Array.isArray(result) ? outputs : outputs[0]!;
        } finally {
          for (const info of Object.values(cpuInputs)) cpu.disposeData(info.dataId);
        }
      },
    });
    installed.push(cpuKernel.kernelName);
  }
  return [...installed];
}

/** Kernels that currently run on the CPU through the wasm fallback bridge. */
export function listCpuFallbacks(): string[] {
  return [...installed];
}
