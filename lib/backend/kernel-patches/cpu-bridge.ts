/**
 * Per-op CPU bridge: every kernel registered on `cpu` but missing on a target backend (on wasm: Einsum, FFT,
 * …; on tensorflow: the ragged, sparse and string kernels tfjs-node lacks) is registered on the target as a
 * bridge that copies the inputs to the CPU backend, runs the CPU kernel there and copies the outputs back.
 * Correct but slow: `listCpuFallbacks(backend)` tells which kernels go this way and `cpuBridgeCalls()` how
 * often each ran, so tests can assert that the model, lens and training paths never use one.
 */
import * as tf from '@tensorflow/tfjs-core';

type AnyBackend = tf.KernelBackend & {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  makeOutput?(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object;
  disposeData(dataId: object): boolean;
};

const installed = new Map<string, string[]>();
const calls = new Map<string, number>();

/** Makes an output tensor on the target from host values (wasm: `makeOutput`; tfjs-node: `write`). */
function output(target: AnyBackend, shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo {
  if (target.makeOutput) return target.makeOutput(shape, dtype, undefined, values);
  if (target.makeTensorInfo) return target.makeTensorInfo(shape, dtype, values);
  return { dataId: target.write(values, shape, dtype), shape, dtype };
}

type Inputs = tf.TensorInfo[] | Record<string, tf.TensorInfo | tf.TensorInfo[] | undefined>;

/** Copies kernel inputs to another backend, keeping their form (a list, or names → one tensor or a list). */
function mapInputs(inputs: Inputs, copy: (info: tf.TensorInfo) => tf.TensorInfo): Inputs {
  if (Array.isArray(inputs)) return inputs.map(copy);
  return Object.fromEntries(
    Object.entries(inputs)
      .filter(([, info]) => info)
      .map(([n, info]) => [n, Array.isArray(info) ? info.map(copy) : copy(info!)]),
  );
}

/** Every tensor in a kernel input structure. */
function allInputs(inputs: Inputs): tf.TensorInfo[] {
  return (Array.isArray(inputs) ? inputs : Object.values(inputs)).flatMap((v) => (Array.isArray(v) ? v : v ? [v] : []));
}

/** A kernel function that runs `cpuKernel` on the CPU backend with copies of the target's inputs. */
function bridge(backendName: string, cpuKernel: tf.KernelConfig): tf.KernelFunc {
  const name = cpuKernel.kernelName;
  return ({ inputs, backend, attrs }) => {
    calls.set(`${backendName}:${name}`, (calls.get(`${backendName}:${name}`) ?? 0) + 1);
    const target = backend as AnyBackend;
    const cpu = tf.findBackend('cpu') as AnyBackend & { firstUse?: boolean };
    cpu.firstUse = false; // no 'install tfjs-node' banner: this bridge is deliberate
    // Most kernels take names → tensors; some take a list (Einsum, Concat, AddN) or names → lists (ragged).
    const toCpu = (info: tf.TensorInfo) => cpu.makeTensorInfo!(info.shape, info.dtype, target.readSync(info.dataId));
    const cpuInputs = mapInputs(inputs as unknown as Inputs, toCpu);
    try {
      const result = cpuKernel.kernelFunc({ inputs: cpuInputs as tf.NamedTensorInfoMap, backend: cpu, attrs });
      const outputs = (Array.isArray(result) ? result : [result]).map((out) => {
        const values = cpu.readSync(out.dataId);
        cpu.disposeData(out.dataId);
        return output(target, out.shape, out.dtype, values);
      });
      return Array.isArray(result) ? outputs : outputs[0]!;
    } finally {
      for (const info of allInputs(cpuInputs)) cpu.disposeData(info.dataId);
    }
  };
}

/**
 * Registers CPU bridges on `backendName` for every CPU kernel it lacks; returns the names bridged on that
 * backend so far.
 */
export function installCpuFallbacks(backendName = 'wasm'): string[] {
  const present = new Set(tf.getKernelsForBackend(backendName).map((k) => k.kernelName));
  const list = installed.get(backendName) ?? [];
  for (const cpuKernel of tf.getKernelsForBackend('cpu')) {
    if (present.has(cpuKernel.kernelName) || list.includes(cpuKernel.kernelName)) continue;
    tf.registerKernel({ kernelName: cpuKernel.kernelName, backendName, kernelFunc: bridge(backendName, cpuKernel) });
    list.push(cpuKernel.kernelName);
  }
  installed.set(backendName, list);
  return [...list];
}

/**
 * Sends the calls of `kernelName` on `backendName` for which `when(inputs, attrs)` holds to the CPU kernel
 * (cases the target's kernel rejects or gets wrong); other calls keep the target's kernel.
 */
export function bridgeToCpuWhen(backendName: string, kernelName: string, when: (inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => boolean): void {
  const own = tf.getKernel(kernelName, backendName);
  const cpuKernel = tf.getKernel(kernelName, 'cpu');
  if (!own || !cpuKernel) return;
  const viaCpu = bridge(backendName, cpuKernel);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({
    ...own,
    kernelFunc: (args) => (when(args.inputs, args.attrs ?? {}) ? viaCpu(args) : own.kernelFunc(args)),
  });
  const list = installed.get(backendName) ?? [];
  if (!list.includes(`${kernelName} (some calls)`)) list.push(`${kernelName} (some calls)`);
  installed.set(backendName, list);
}

/** Kernels that run on the CPU through the bridge on `backendName` (default: the wasm backend). */
export function listCpuFallbacks(backendName = 'wasm'): string[] {
  return [...(installed.get(backendName) ?? [])];
}

/** How many times each bridged kernel ran, keyed `backend:Kernel` (a copy; `reset` clears the counts). */
export function cpuBridgeCalls(reset = false): Record<string, number> {
  const snapshot = Object.fromEntries(calls);
  if (reset) calls.clear();
  return snapshot;
}
