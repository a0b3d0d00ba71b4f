/**
 * One addition to tfjs-node's binding source before it is compiled: `list(string)` op attributes. The stock
 * binding passes only single strings, so libtensorflow's fused kernels (`_FusedMatMul` with
 * `fused_ops: ['BiasAdd', 'GeluApproximate']`) cannot be called. The patch adds an array branch to the
 * string case of its attribute setter (TFE_OpSetAttrStringList); everything else is left as published.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendSetupError } from '../../errors.js';

/** Bumped when the patch changes: part of the cached binding's key. */
export const BINDING_PATCH_LEVEL = 1;

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

/** Applies the patch to `pkgDir/binding/tfjs_backend.cc` (idempotent). */
export function patchBindingSource(pkgDir: string): void {
  const file = join(pkgDir, 'binding', 'tfjs_backend.cc');
  const source = readFileSync(file, 'utf8');
  if (source.includes(MARKER)) return;
  if (!source.includes(ANCHOR)) {
    throw new BackendSetupError('build', `${file} does not have the attribute setter this setup patches (another tfjs-node version?)`, 'use the tfjs-node version that matches tfjs-core (4.22.0), or report the version');
  }
  writeFileSync(file, source.replace(ANCHOR, ADDITION));
}
