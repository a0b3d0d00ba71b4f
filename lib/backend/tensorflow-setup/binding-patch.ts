/**
 * Two additions to tfjs-node's binding source before it is compiled; everything else is left as published.
 *
 * 1. `list(string)` op attributes. The stock binding passes only single strings, so libtensorflow's fused kernels
 *    (`_FusedMatMul` with `fused_ops: ['BiasAdd', 'GeluApproximate']`) cannot be called. The patch adds an array
 *    branch to the string case of its attribute setter (TFE_OpSetAttrStringList).
 * 2. The copy of a new tensor's values into libtensorflow. `TF_NewTensor` keeps a typed array as the tensor's
 *    storage only at a 64-byte aligned address; otherwise libtensorflow copies it, single-threaded, into memory it
 *    has just allocated, and every 4 KiB page of that memory is faulted in on the way (about 1–1.9 GB/s on one
 *    thread on the development VM, 2.4–3.3 GB/s on two: most of the time `loadModel` spends on a multi-GB
 *    checkpoint). For float32 arrays of 2 MiB and more that libtensorflow would copy, the patched binding
 *    allocates the tensor itself (`TF_AllocateTensor`, aligned) and copies in up to four threads. With
 *    `TFJS_LENS_HUGE_PAGES=1` it first asks for transparent huge pages on it (`madvise(MADV_HUGEPAGE)`): 6.9–8 GB/s
 *    when free memory is in large free blocks, but 0.4 GB/s when the kernel must compact it first (measured right
 *    after reading a checkpoint through the page cache), so it is not the default. Same values, same ownership;
 *    arrays libtensorflow adopts, small ones and other dtypes take the stock path.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendSetupError } from '../../errors.js';

/** Bumped when the patch changes: part of the cached binding's key. */
export const BINDING_PATCH_LEVEL = 2;

const MARKER = '// tfjs-lens: list(string) attributes';
const ANCHOR = '    case TF_ATTR_STRING: {\n';
const ADDITION = `    case TF_ATTR_STRING: {
      ${MARKER} (e.g. _FusedMatMul's fused_ops)
      if (IsArray(env, nstatus, &js_value)) {
        uint32_t length;
        nstatus = napi_get_array_length(env, js_value, &length);
        ENSURE_NAPI_OK(env, nstatus);
        std::unique_ptr<std::string[]> strs(new std::string[length]);
        std::unique_ptr<const void *[]> ptrs(new const void *[length]);
        std::unique_ptr<size_t[]> lens(new size_t[length]);
        for (uint32_t i = 0; i < length; ++i) {
          napi_value element;
          nstatus = napi_get_element(env, js_value, i, &element);
          ENSURE_NAPI_OK(env, nstatus);
          nstatus = GetStringParam(env, element, strs[i]);
          ENSURE_NAPI_OK(env, nstatus);
          ptrs[i] = strs[i].data();
          lens[i] = strs[i].size();
        }
        TFE_OpSetAttrStringList(tfe_op, attr_name, ptrs.get(), lens.get(), length);
        break;
      }
`;

const COPY_MARKER = '// tfjs-lens: large copies in parallel (TFJS_LENS_HUGE_PAGES=1: into huge pages)';
const COPY_INCLUDE_ANCHOR = '#include "tfjs_backend.h"\n';
const COPY_HELPER = `#include "tfjs_backend.h"

${COPY_MARKER}
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace {
// Copies n bytes into memory libtensorflow has just allocated (not yet touched), split over up to four threads from
// 32 MiB on (each faults in its own pages). TFJS_LENS_HUGE_PAGES=1 first asks for huge pages on the 2 MiB-aligned
// interior: faster when free memory is not fragmented, much slower when the kernel must compact it first.
void TfjsLensCopyIntoFreshMemory(void *dst, const void *src, size_t n) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  static const bool hugePages = [] {
    const char *v = getenv("TFJS_LENS_HUGE_PAGES");
    return v && strcmp(v, "1") == 0;
  }();
  const uintptr_t huge = uintptr_t(2) << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(dst) + huge - 1) & ~(huge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(dst) + n) & ~(huge - 1);
  if (hugePages && end > begin) madvise(reinterpret_cast<void *>(begin), end - begin, MADV_HUGEPAGE);
#endif
  const size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  const size_t parts = n >= (size_t(32) << 20) ? std::min<size_t>(4, cores) : 1;
  const size_t step = (n + parts - 1) / parts;
  std::vector<std::thread> threads;
  for (size_t i = 1; i < parts && i * step < n; ++i) {
    const size_t offset = i * step;
    const size_t length = std::min(step, n - offset);
    threads.emplace_back([=]() { memcpy(static_cast<char *>(dst) + offset, static_cast<const char *>(src) + offset, length); });
  }
  memcpy(dst, src, std::min(step, n));
  for (auto &t : threads) t.join();
}
}  // namespace
`;
const COPY_ANCHOR = '  // Sharing V8 memory with the underlying TensorFlow tensor requires adding an\n';
const COPY_BRANCH = `  ${COPY_MARKER}: a float32 array libtensorflow would copy (not 64-byte aligned)
  if (dtype == TF_FLOAT && num_elements * width >= (size_t(2) << 20) &&
      reinterpret_cast<uintptr_t>(array_data) % 64 != 0) {
    const size_t byte_size = num_elements * width;
    TF_AutoTensor copy(TF_AllocateTensor(dtype, shape, shape_length, byte_size));
    TfjsLensCopyIntoFreshMemory(TF_TensorData(copy.tensor), array_data, byte_size);
    TF_AutoStatus tf_status;
    TFE_TensorHandle *copied = TFE_NewTensorHandle(copy.tensor, tf_status.status);
    ENSURE_TF_OK_RETVAL(env, tf_status, nullptr);
    return copied;
  }

${COPY_ANCHOR}`;

/**
 * Applies both patches to `pkgDir/binding/tfjs_backend.cc`, always to the published source: kept beside it as
 * `tfjs_backend.cc.orig` the first time (a source an earlier setup patched is restored by undoing its additions),
 * so a re-run or a newer patch level never patches twice.
 */
export function patchBindingSource(pkgDir: string): void {
  const file = join(pkgDir, 'binding', 'tfjs_backend.cc');
  const orig = `${file}.orig`;
  const pristine = existsSync(orig) ? readFileSync(orig, 'utf8') : unpatched(readFileSync(file, 'utf8'));
  if (pristine.includes('// tfjs-lens')) {
    throw new BackendSetupError('build', `${file} carries an earlier tfjs-lens patch that cannot be undone`, 'reinstall @tensorflow/tfjs-node (npm ci, or delete node_modules/@tensorflow/tfjs-node) and run the setup again');
  }
  for (const anchor of [ANCHOR, COPY_INCLUDE_ANCHOR, COPY_ANCHOR]) {
    if (!pristine.includes(anchor)) {
      throw new BackendSetupError('build', `${file} does not have the code this setup patches (another tfjs-node version?)`, 'use the tfjs-node version that matches tfjs-core (4.22.0), or report the version');
    }
  }
  if (!existsSync(orig)) writeFileSync(orig, pristine);
  writeFileSync(file, pristine.replace(ANCHOR, ADDITION).replace(COPY_INCLUDE_ANCHOR, COPY_HELPER).replace(COPY_ANCHOR, COPY_BRANCH));
}

/** The source without the additions of this patch level (an earlier setup run applied them in place). */
function unpatched(source: string): string {
  return source.replace(ADDITION, ANCHOR).replace(COPY_HELPER, COPY_INCLUDE_ANCHOR).replace(COPY_BRANCH, COPY_ANCHOR);
}
