/**
 * A tiny N-API addon the setup compiles beside the binding: it points file descriptor 2 at a file and back.
 * libtensorflow writes start-up lines (absl's "All log messages before absl::InitializeLog()", the oneDNN
 * notice, CPU feature notes) straight to fd 2 while it is being loaded, before `TF_CPP_MIN_LOG_LEVEL` is
 * consulted, and Node has no `dup2`. The loader captures that window and re-emits every line that is not one
 * of those notices (tensorflow.ts), so the CLI's one-line errors stay one line.
 */
import { mkdirSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './exec.js';
import { BackendSetupError } from '../../errors.js';

const SOURCE = String.raw`// tfjs-lens: redirect(path) points fd 2 at a file and returns the saved fd; restore(saved) undoes it.
#include <node_api.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static napi_value Redirect(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[4096];
  size_t len = 0;
  napi_value result;
  int saved = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 &&
      napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) == napi_ok && len < sizeof path - 1) {
    fflush(stderr);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      saved = dup(2);
      if (saved < 0 || dup2(fd, 2) < 0) {
        if (saved >= 0) close(saved);
        saved = -1;
      }
      close(fd);
    }
  }
  napi_create_int32(env, saved, &result);
  return result;
}

static napi_value Restore(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int saved = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 1) napi_get_value_int32(env, argv[0], &saved);
  fflush(stderr);
  if (saved >= 0) {
    dup2(saved, 2);
    close(saved);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "redirect", NAPI_AUTO_LENGTH, Redirect, NULL, &fn);
  napi_set_named_property(env, exports, "redirect", fn);
  napi_create_function(env, "restore", NAPI_AUTO_LENGTH, Restore, NULL, &fn);
  napi_set_named_property(env, exports, "restore", fn);
  return exports;
}
`;

const GYP = JSON.stringify({ targets: [{ target_name: 'tfjs_lens_stdio', sources: ['stdio.c'] }] });

/** Builds the helper into `dir/tfjs_lens_stdio.node` with node-gyp (`gyp` = npm's node-gyp.js or undefined for npx). */
export async function buildStdioHelper(dir: string, gypArgs: string[], gyp: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  const target = join(dir, 'tfjs_lens_stdio.node');
  if (existsSync(target)) return target;
  const src = join(dir, 'stdio-src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'stdio.c'), SOURCE);
  writeFileSync(join(src, 'binding.gyp'), GYP);
  if (gyp) await runCommand('build', process.execPath, [gyp, 'rebuild', ...gypArgs], { cwd: src, env });
  else await runCommand('build', 'npx', ['--yes', 'node-gyp', 'rebuild', ...gypArgs], { cwd: src, env });
  const built = join(src, 'build', 'Release', 'tfjs_lens_stdio.node');
  if (!existsSync(built)) throw new BackendSetupError('build', `node-gyp finished but ${built} is missing`, 'look at the node-gyp output above');
  copyFileSync(built, target);
  return target;
}
