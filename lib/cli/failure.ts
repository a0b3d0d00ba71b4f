/**
 * How the `tfjs-lens` command fails: one message on stderr and a non-zero exit, never a stack trace.
 * Typed errors print their message and hint (exit 1); file-system errors one line naming the path and
 * the reason (exit 1); anything else one "internal error" line (exit 2). `TFJS_LENS_DEBUG=1` adds the
 * stack trace to all of them.
 */
import { TfjsLensError } from '../errors.js';
import { isSystemError, systemErrorReason } from '../io/system-error.js';

/** Exit code of a failure the user can fix (bad input, unwritable folder, …). */
export const EXIT_USER_ERROR = 1;
/** Exit code of an unexpected error (a bug in tfjs-lens or a dependency). */
export const EXIT_INTERNAL_ERROR = 2;

/** True when `TFJS_LENS_DEBUG` asks for stack traces (`1`, `true`, `yes`). */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.TFJS_LENS_DEBUG ?? '');
}

/** The text printed for `err` (prefixed `tfjs-lens: `, newline-terminated) and the exit code. */
export function describeFailure(err: unknown, debug = debugEnabled()): { text: string; exitCode: number } {
  const stack = debug && err instanceof Error && err.stack ? `${err.stack}\n` : '';
  if (err instanceof TfjsLensError) return { text: `tfjs-lens: ${err.message}\n${stack}`, exitCode: EXIT_USER_ERROR };
  if (isSystemError(err)) {
    const target = err.path ? ` ${err.path}` : '';
    const action = err.syscall ? `cannot ${err.syscall}${target}` : `failed${target}`;
    return { text: `tfjs-lens: ${action}: ${systemErrorReason(err)}\n${stack}`, exitCode: EXIT_USER_ERROR };
  }
  const message = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err);
  const hint = debug ? '' : ' (set TFJS_LENS_DEBUG=1 for the stack trace)';
  return { text: `tfjs-lens: internal error: ${message}${hint}\n${stack}`, exitCode: EXIT_INTERNAL_ERROR };
}

/** Prints `err` as `describeFailure` says and exits. */
export function failAndExit(err: unknown): never {
  const { text, exitCode } = describeFailure(err);
  process.stderr.write(text);
  process.exit(exitCode);
}

/** Routes errors thrown outside the command's promise (timers, event handlers) through `failAndExit`. */
export function installFailureHandlers(): void {
  process.on('uncaughtException', failAndExit);
  process.on('unhandledRejection', failAndExit);
}
