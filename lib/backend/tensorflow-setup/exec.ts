/** Runs the setup's external commands (python, pip, npm, node-gyp) with captured output and typed errors. */
import { spawn, spawnSync } from 'node:child_process';
import { BackendSetupError } from '../../errors.js';

/** The captured result of a finished command. */
export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Options of `runCommand`. */
export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the command after this many milliseconds (default 15 minutes). */
  timeoutMs?: number;
  /** Called with each output line while the command runs (progress). */
  onLine?: (line: string) => void;
}

/** Whether `command` can be started at all (it exists on PATH or as a path). */
export function commandExists(command: string, versionFlag = '--version'): boolean {
  const r = spawnSync(command, [versionFlag], { encoding: 'utf8', timeout: 30_000 });
  return !r.error && r.status === 0;
}

/**
 * Runs `command args…` and resolves with its output; rejects with `BackendSetupError(step)` when it cannot
 * start, times out or exits non-zero (the message ends with the last lines it printed).
 */
export function runCommand(step: string, command: string, args: string[], opts: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const onData = (chunk: Buffer, sink: 'out' | 'err') => {
      const text = chunk.toString('utf8');
      if (sink === 'out') stdout += text;
      else stderr += text;
      if (!opts.onLine) return;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) opts.onLine(line);
    };
    child.stdout.on('data', (c: Buffer) => onData(c, 'out'));
    child.stderr.on('data', (c: Buffer) => onData(c, 'err'));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15 * 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new BackendSetupError(step, `could not run ${command}: ${err.message}`, `install ${command} or put it on PATH`));
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      if (status === 0) return resolve({ status, stdout, stderr });
      const tail = (stderr || stdout).trim().split('\n').slice(-12).join('\n    ');
      const why = signal ? `was killed (${signal})` : `exited with ${status}`;
      reject(new BackendSetupError(step, `${command} ${args.join(' ')} ${why}:\n    ${tail}`, 'see the output above; re-run with the same arguments after fixing it'));
    });
  });
}
