/**
 * A real one-node Slurm cluster, started here: munged with its own key and socket, slurmctld and slurmd
 * (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, a 2-CPU node, free ports, state, logs and pid files
 * in a temporary folder). `sbatch --array=0-3 --wait` runs the shortcut collection of the shipped model as a
 * job array — each task finds its shard in SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT, no --shard — then
 * `merge` combines the four shards and the result is compared with the single-process run. Skips, saying
 * why, without slurmctld, slurmd, munged or sbatch (Debian: apt-get install slurm-wlm munge) or without root;
 * the after hook stops the daemons by their pid files and checks with pgrep that none is left.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.js';
import { CLI } from '../helpers/cli.js';
import { defaultTierOnly, testBackend } from '../helpers/backend.js';

const BACKEND = testBackend('wasm');
const MODEL = join(ROOT, 'weights', 'tiny-gpt2');
const TEXT = join(ROOT, 'data', 'text', 'sentences.txt');
const ARGS = ['shortcuts', '--model', MODEL, '--text-file', TEXT, '--n-train', '16', '--n-val', '4', '--batch', '4', '--backend', BACKEND];

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

const missing = ['slurmctld', 'slurmd', 'munged', 'sbatch', 'pgrep'].filter((c) => !which(c));
// Backend-independent (the shards' sums are checked against one process on the same backend): the default tier only.
const skip = defaultTierOnly().skip ?? (missing.length ? `${missing.join(', ')} not installed (Debian: apt-get install slurm-wlm munge)` : process.getuid?.() !== 0 ? 'slurmd runs as root and this test is not root' : false);

/** A TCP port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

let dir = '';
let env: NodeJS.ProcessEnv = {};

function run(cmd: string, args: string[], timeout = 120_000) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function logs(): string {
  return ['munged.log', 'slurmctld.log', 'slurmd.log'].filter((f) => existsSync(join(dir, f))).map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-15).join('\n')}`).join('\n');
}

/** Our daemons and job steps: every process whose command line names the temporary folder. */
function ours(): string {
  return spawnSync('pgrep', ['-af', dir], { encoding: 'utf8' }).stdout.trim();
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-slurm-'));
  const node = hostname().split('.')[0]!;
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const key = join(dir, 'munge.key');
  writeFileSync(key, randomBytes(1024));
  chmodSync(key, 0o400);
  for (const sub of ['state', 'spool']) mkdirSync(join(dir, sub));
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, [
    'ClusterName=tfjslens', `SlurmctldHost=${node}`, `SlurmctldPort=${ctldPort}`, `SlurmdPort=${slurmdPort}`,
    'SlurmUser=root', 'SlurmdUser=root', 'AuthType=auth/munge', `AuthInfo=socket=${join(dir, 'munge.socket')}`, 'CredType=cred/munge',
    'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none', 'JobCompType=jobcomp/none', 'MpiDefault=none',
    'SelectType=select/cons_tres', 'SelectTypeParameters=CR_CPU', 'ReturnToService=2',
    `StateSaveLocation=${join(dir, 'state')}`, `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`, `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`, `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
    `NodeName=${node} CPUs=2 RealMemory=1000 State=UNKNOWN`,
    `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`, '',
  ].join('\n'));
  env = { ...process.env, SLURM_CONF: conf };
  const munged = run('munged', ['--force', `--key-file=${key}`, `--socket=${join(dir, 'munge.socket')}`, `--pid-file=${join(dir, 'munged.pid')}`, `--log-file=${join(dir, 'munged.log')}`, `--seed-file=${join(dir, 'munged.seed')}`]);
  assert.equal(munged.status, 0, `munged: ${munged.out}\n${logs()}`);
  const ctld = run('slurmctld', ['-f', conf, '-i']);
  assert.equal(ctld.status, 0, `slurmctld: ${ctld.out}\n${logs()}`);
  const slurmd = run('slurmd', ['-f', conf]);
  assert.equal(slurmd.status, 0, `slurmd: ${slurmd.out}\n${logs()}`);
  // the node registers within seconds
  for (let i = 0; i < 40; i++) {
    if (/idle/.test(run('sinfo', ['-h', '-o', '%T']).out)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`the node did not become idle: ${run('sinfo', []).out}\n${logs()}`);
});

after(async () => {
  if (skip || !dir) return;
  for (const name of ['slurmd', 'slurmctld', 'munged']) {
    const pidFile = join(dir, `${name}.pid`);
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  let left = ours();
  for (let i = 0; i < 40 && left; i++) {
    await new Promise((r) => setTimeout(r, 250));
    left = ours();
  }
  rmSync(dir, { recursive: true, force: true });
  assert.equal(left, '', 'no Slurm or munge process of this test is left');
});

test('sbatch --array=0-3 --wait of the shortcut collection, then merge, equals the single-process run', { skip }, () => {
  const runDir = join(dir, 'run');
  const job = join(dir, 'collect.sh');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(job, `#!/bin/sh\nexec ${[process.execPath, CLI, ...ARGS, '--run-dir', runDir].map(quote).join(' ')}\n`);
  chmodSync(job, 0o755);
  const t0 = Date.now();
  const batch = run('sbatch', ['--array=0-3', '--wait', '--cpus-per-task=1', `--chdir=${ROOT}`, `--output=${join(dir, 'task-%a.out')}`, job], 300_000);
  const taskLogs = readdirSync(dir).filter((f) => f.startsWith('task-')).sort().map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8')}`).join('\n');
  assert.equal(batch.status, 0, `sbatch: ${batch.out}\n${taskLogs}\n${logs()}`);
  const seconds = (Date.now() - t0) / 1000;
  assert.deepEqual(readdirSync(join(runDir, 'shards')).sort(), ['0-of-4', '1-of-4', '2-of-4', '3-of-4'], taskLogs);
  for (let i = 0; i < 4; i++) assert.match(readFileSync(join(dir, `task-${i}.out`), 'utf8'), new RegExp(`shard ${i}/4 .*tfjs-lens merge`));

  const merged = spawnSync(process.execPath, [CLI, 'merge', runDir, '--backend', BACKEND, '--json'], { encoding: 'utf8', cwd: ROOT });
  assert.equal(merged.status, 0, merged.stderr);
  const single = spawnSync(process.execPath, [CLI, ...ARGS, '--out', join(dir, 'single'), '--json'], { encoding: 'utf8', cwd: ROOT });
  assert.equal(single.status, 0, single.stderr);
  const a = JSON.parse(merged.stdout) as Record<string, any>;
  const b = JSON.parse(single.stdout) as Record<string, any>;
  assert.deepEqual(a.fixedExit, b.fixedExit, 'Precision@1 and the other fixed-exit metrics');
  assert.deepEqual(a.earlyExit, b.earlyExit);
  const flat = (m: (number | null)[][]) => m.flat().map((v) => v ?? NaN);
  const [ra, rb] = [flat(a.r2.mat), flat(b.r2.mat)];
  ra.forEach((v, i) => assert.ok((Number.isNaN(v) && Number.isNaN(rb[i]!)) || Math.abs(v - rb[i]!) <= 1e-9 * Math.max(1, Math.abs(rb[i]!)), `r² ${i}: ${v} vs ${rb[i]}`));
  assert.deepEqual(a.r2.id, b.r2.id);
  assert.equal(a.nTrain, 16);
  process.stderr.write(`slurm: 4 array tasks ran in ${seconds.toFixed(1)} s\n`);
});
