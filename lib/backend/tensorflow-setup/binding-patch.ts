/**
 * Three additions to tfjs-node's binding sources before they are compiled; everything else is left as published.
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
 * 3. Tensors that map checkpoint bytes (`createTensorFromFile(shape, dtype, fd, offset, byteLength)`, a new export
 *    of the binding). The region of an open file is mapped copy-on-write (`mmap(MAP_PRIVATE)`) and given to
 *    `TF_NewTensor` as the tensor's storage, which libtensorflow keeps without a copy when it is 64-byte aligned
 *    (a file offset that is a multiple of 64); the mapping is removed when libtensorflow frees the tensor. Pages
 *    come from the page cache as the tensor is first read — no fresh memory is written at load, as in PyTorch's
 *    memory-mapped safetensors. An unaligned region is refused (the caller reads it instead).
 * Each patched file is kept as published beside it (`.orig`) and patched from that copy.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendSetupError } from '../../errors.js';

/** Bumped when the patch changes: part of the cached binding's key. */
export const BINDING_PATCH_LEVEL = 3;

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

const MAP_MARKER = '// tfjs-lens: tensors that map checkpoint bytes';
const MAP_INCLUDE_ANCHOR = '#include "utils.h"\n';
const MAP_INCLUDES = `#include "utils.h"

${MAP_MARKER}
#include <cerrno>
#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#endif
`;
const MAP_DEFINITION_ANCHOR = 'void TFJSBackend::DeleteTensor(napi_env env, napi_value tensor_id_value) {\n';
const MAP_DEFINITION = `${MAP_MARKER}: the mapping lives as long as the tensor's buffer
namespace {
struct TfjsLensMapping {
  void *base;
  size_t length;
};
void TfjsLensUnmap(void *, size_t, void *arg) {
  TfjsLensMapping *mapping = static_cast<TfjsLensMapping *>(arg);
#if defined(__unix__) || defined(__APPLE__)
  munmap(mapping->base, mapping->length);
#endif
  delete mapping;
}
}  // namespace

napi_value TFJSBackend::CreateTensorFromFile(napi_env env, napi_value shape_value, napi_value dtype_value,
                                             napi_value fd_value, napi_value offset_value,
                                             napi_value length_value) {
  std::vector<int64_t> shape_vector;
  ExtractArrayShape(env, shape_value, &shape_vector);
  if (IsExceptionPending(env)) return nullptr;
  int32_t dtype_int32, fd;
  int64_t offset, byte_length;
  ENSURE_NAPI_OK_RETVAL(env, napi_get_value_int32(env, dtype_value, &dtype_int32), nullptr);
  ENSURE_NAPI_OK_RETVAL(env, napi_get_value_int32(env, fd_value, &fd), nullptr);
  ENSURE_NAPI_OK_RETVAL(env, napi_get_value_int64(env, offset_value, &offset), nullptr);
  ENSURE_NAPI_OK_RETVAL(env, napi_get_value_int64(env, length_value, &byte_length), nullptr);
  const TF_DataType dtype = static_cast<TF_DataType>(dtype_int32);
  if (dtype != TF_FLOAT && dtype != TF_INT32) {
    NAPI_THROW_ERROR(env, "createTensorFromFile: dtype %d is not float32 or int32", dtype_int32);
    return nullptr;
  }
  int64_t num_elements = 1;
  for (int64_t d : shape_vector) num_elements *= d;
  if (offset < 0 || offset % 64 != 0 || byte_length <= 0 || byte_length != num_elements * 4) {
    NAPI_THROW_ERROR(env, "createTensorFromFile: %lld bytes at offset %lld are not a 64-byte aligned region of the shape",
                     static_cast<long long>(byte_length), static_cast<long long>(offset));
    return nullptr;
  }
#if defined(__unix__) || defined(__APPLE__)
  const int64_t page = sysconf(_SC_PAGESIZE);
  const int64_t start = offset - offset % page;
  const size_t length = static_cast<size_t>(offset - start + byte_length);
  void *base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, static_cast<off_t>(start));
  if (base == MAP_FAILED) {
    NAPI_THROW_ERROR(env, "createTensorFromFile: mmap of %lld bytes failed (%s)", static_cast<long long>(length), strerror(errno));
    return nullptr;
  }
  TfjsLensMapping *mapping = new TfjsLensMapping{base, length};
  TF_AutoTensor tensor(TF_NewTensor(dtype, shape_vector.data(), shape_vector.size(),
                                    static_cast<char *>(base) + (offset - start), static_cast<size_t>(byte_length),
                                    TfjsLensUnmap, mapping));
  TF_AutoStatus tf_status;
  TFE_TensorHandle *tfe_handle = TFE_NewTensorHandle(tensor.tensor, tf_status.status);
  ENSURE_TF_OK_RETVAL(env, tf_status, nullptr);
  if (dtype != TF_INT32) {
    TFE_TensorHandle *new_handle = CopyTFE_TensorHandleToDevice(env, device_name.c_str(), tfe_handle, tfe_context_);
    TFE_DeleteTensorHandle(tfe_handle);
    tfe_handle = new_handle;
  }
  napi_value output_tensor_id;
  ENSURE_NAPI_OK_RETVAL(env, napi_create_int32(env, InsertHandle(tfe_handle), &output_tensor_id), nullptr);
  return output_tensor_id;
#else
  NAPI_THROW_ERROR(env, "createTensorFromFile: no mmap on this platform");
  return nullptr;
#endif
}

${MAP_DEFINITION_ANCHOR}`;
const MAP_DECLARATION_ANCHOR = '  // Deletes a created Tensor.\n';
const MAP_DECLARATION = `  ${MAP_MARKER}: a tensor whose storage maps byte_length bytes at offset
  // (a multiple of 64) of the open file fd (copy-on-write); returns its ID.
  napi_value CreateTensorFromFile(napi_env env, napi_value shape_value, napi_value dtype_value,
                                  napi_value fd_value, napi_value offset_value, napi_value length_value);

${MAP_DECLARATION_ANCHOR}`;
const MAP_WRAPPER_ANCHOR = 'static napi_value DeleteTensor(napi_env env, napi_callback_info info) {\n';
const MAP_WRAPPER = `${MAP_MARKER}: createTensorFromFile(shape, dtype, fd, offset, byteLength)
static napi_value CreateTensorFromFile(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value args[5];
  napi_value js_this;
  ENSURE_NAPI_OK_RETVAL(env, napi_get_cb_info(env, info, &argc, args, &js_this, nullptr), nullptr);
  if (argc < 5) {
    NAPI_THROW_ERROR(env, "createTensorFromFile() takes 5 args, got %zu", argc);
    return nullptr;
  }
  ENSURE_VALUE_IS_ARRAY_RETVAL(env, args[0], nullptr);
  for (size_t i = 1; i < 5; ++i) ENSURE_VALUE_IS_NUMBER_RETVAL(env, args[i], nullptr);
  TFJSBackend *const backend = GetTFJSBackend(env);
  if (!backend) return nullptr;
  return backend->CreateTensorFromFile(env, args[0], args[1], args[2], args[3], args[4]);
}

${MAP_WRAPPER_ANCHOR}`;
const MAP_EXPORT_ANCHOR = '      {"deleteTensor", nullptr, DeleteTensor, nullptr, nullptr, nullptr,\n';
const MAP_EXPORT = `      {"createTensorFromFile", nullptr, CreateTensorFromFile, nullptr, nullptr, nullptr,
       napi_default, nullptr},  ${MAP_MARKER}
${MAP_EXPORT_ANCHOR}`;

/** One edit: `anchor`, found once in the published file, becomes `replacement` (which still contains it). */
interface Edit {
  anchor: string;
  replacement: string;
}

/** The edits of this patch level, per file of `binding/`. */
const EDITS: Record<string, Edit[]> = {
  'tfjs_backend.cc': [
    { anchor: ANCHOR, replacement: ADDITION },
    { anchor: COPY_INCLUDE_ANCHOR, replacement: COPY_HELPER },
    { anchor: COPY_ANCHOR, replacement: COPY_BRANCH },
    { anchor: MAP_INCLUDE_ANCHOR, replacement: MAP_INCLUDES },
    { anchor: MAP_DEFINITION_ANCHOR, replacement: MAP_DEFINITION },
  ],
  'tfjs_backend.h': [{ anchor: MAP_DECLARATION_ANCHOR, replacement: MAP_DECLARATION }],
  'tfjs_binding.cc': [
    { anchor: MAP_WRAPPER_ANCHOR, replacement: MAP_WRAPPER },
    { anchor: MAP_EXPORT_ANCHOR, replacement: MAP_EXPORT },
  ],
};

/**
 * Applies the patch to `pkgDir/binding/` (tfjs_backend.cc, tfjs_backend.h, tfjs_binding.cc), always to the
 * published sources: each kept beside it as `<file>.orig` the first time (a source an earlier setup patched in place
 * is restored by undoing its additions), so a re-run or a newer patch level never patches twice. Every file is
 * checked before any is written.
 */
export function patchBindingSource(pkgDir: string): void {
  const patched: { file: string; orig: string; pristine: string; text: string }[] = [];
  for (const [name, edits] of Object.entries(EDITS)) {
    const file = join(pkgDir, 'binding', name);
    const orig = `${file}.orig`;
    if (!existsSync(orig) && !existsSync(file)) {
      throw new BackendSetupError('build', `${file} is missing (another tfjs-node version?)`, 'use the tfjs-node version that matches tfjs-core (4.22.0), or report the version');
    }
    const pristine = existsSync(orig) ? readFileSync(orig, 'utf8') : unpatched(readFileSync(file, 'utf8'), edits);
    if (pristine.includes('// tfjs-lens')) {
      throw new BackendSetupError('build', `${file} carries an earlier tfjs-lens patch that cannot be undone`, 'reinstall @tensorflow/tfjs-node (npm ci, or delete node_modules/@tensorflow/tfjs-node) and run the setup again');
    }
    let text = pristine;
    for (const { anchor, replacement } of edits) {
      if (pristine.split(anchor).length !== 2) {
        throw new BackendSetupError('build', `${file} does not have the code this setup patches (another tfjs-node version?)`, 'use the tfjs-node version that matches tfjs-core (4.22.0), or report the version');
      }
      text = text.replace(anchor, replacement);
    }
    patched.push({ file, orig, pristine, text });
  }
  for (const { file, orig, pristine, text } of patched) {
    if (!existsSync(orig)) writeFileSync(orig, pristine);
    writeFileSync(file, text);
  }
}

/** The source without the additions of `edits` (an earlier setup run applied them in place, keeping no `.orig`). */
function unpatched(source: string, edits: readonly Edit[]): string {
  return edits.reduce((text, { anchor, replacement }) => text.replace(replacement, anchor), source);
}
