/** Types shared by backend selection (`index.ts`) and the backend loaders; no imports, so no circles. */

/** Names accepted by `setBackend`. `'cuda'` is the `tensorflow` backend on an NVIDIA GPU. */
export type BackendName = 'auto' | 'cuda' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** Where the `tensorflow` backend runs its ops: libtensorflow's CPU kernels or its CUDA GPU. */
export type TensorflowDevice = 'cpu' | 'gpu';

/** Options of `setBackend`. */
export interface BackendOptions {
  /** wasm: number of threads (default: all cores when threads are supported). */
  threads?: number;
  /**
   * tensorflow: `'gpu'` requires a CUDA build of TensorFlow and a visible NVIDIA GPU; `'cpu'` hides every
   * GPU from TensorFlow (`CUDA_VISIBLE_DEVICES=-1`). Default: TensorFlow's own choice (GPU when it has one).
   * Fixed once libtensorflow is loaded: a process cannot switch it later.
   */
  device?: TensorflowDevice;
  /** Print which backend was chosen (default true for 'auto'). */
  verbose?: boolean;
}

/** What `setBackend` chose. */
export interface ActiveBackend {
  /** The tfjs backend name now active (`tf.getBackend()`): `'cuda'` reports as `'tensorflow'`. */
  name: Exclude<BackendName, 'auto' | 'cuda'>;
  /** One line on what runs it (package, library versions, device, fallbacks). */
  detail: string;
  /** The device ops run on: `'cpu'`, `'gpu'` (tensorflow on CUDA, webgpu) or `'wasm'`. */
  device: 'cpu' | 'gpu' | 'wasm';
  /** Versions of the native pieces under the backend, e.g. `{ tensorflow: '2.21.0', 'tfjs-node': '4.22.0' }`. */
  versions: Record<string, string>;
}
