// Issue 14 "CLI": every failure is one clear message on stderr and a non-zero exit, never a stack trace;
// outputs are never left half-written; inputs the model cannot take are named.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fixtureDir } from '../helpers/fixtures.js';
import { runCli, type CliRun } from '../helpers/cli.js';

const GPT2 = fixtureDir('gpt2-tiny');
const VIT = fixtureDir('vit-tiny');
const IMAGE = join(ROOT, 'test', 'fixtures', 'hf', 'vit-preprocess', 'image.png');
const SHIPPED = join(ROOT, 'weights', 'tiny-gpt2');
const FAIL_WRITES = join(ROOT, 'dist', 'test', 'helpers', 'fail-writes.js');
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-cli-errors-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Asserts a failed run: exit `status`, stderr matching `message`, no stack-trace line, at most `lines` lines. */
function assertFails(r: CliRun, message: RegExp, opts: { status?: number; lines?: number } = {}): void {
  assert.equal(r.status, opts.status ?? 1, `exit status; stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at .+[:(]\d+/m, 'no stack trace');
  const lines = r.stderr.trimEnd().split('\n');
  assert.ok(lines.length <= (opts.lines ?? 2), `at most ${opts.lines ?? 2} lines (message + hint), got:\n${r.stderr}`);
  assert.match(lines[0]!, /^tfjs-lens: /);
}

test('--model: a mistyped local path and weights that do not match config.json are one-line errors, never a hub request', () => {
  const offline = { env: { HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_OFFLINE: '' } };
  assertFails(runCli(['hooks', '--model', 'weights/nope'], offline), /^tfjs-lens: directory weights\/nope does not exist \(not sent to the hub: 'weights' is a local folder\)$/m);
  assertFails(runCli(['hooks', '--model', './nope'], offline), /^tfjs-lens: directory \.\/nope does not exist/m);
  const short = join(dir, 'gpt2-short');
  mkdirSync(short);
  writeFileSync(join(short, 'config.json'), JSON.stringify({ ...(JSON.parse(readFileSync(join(GPT2, 'config.json'), 'utf8')) as object), n_layer: 2 }));
  copyFileSync(join(GPT2, 'model.safetensors'), join(short, 'model.safetensors'));
  assertFails(runCli(['lens', '--model', short, '--ids', '1,2']), /does not match its config\.json: 12 tensors are not used by the model: 'transformer\.h\.2\./);
});

test('lens --ids 1,abc and an empty --ids are one-line typed errors', () => {
  assertFails(runCli(['lens', '--model', GPT2, '--ids', '1,abc']), /^tfjs-lens: --ids: 'abc' is not an integer token id$/m);
  assertFails(runCli(['lens', '--model', GPT2, '--ids', '1,1000']), /--ids: token id 1000 is outside the vocabulary \[0, 1000\)/);
  assertFails(runCli(['lens', '--model', GPT2, '--ids', '']), /--ids is empty/);
});

test('lens --text "" says the text is empty', { skip: !existsSync(join(SHIPPED, 'model.safetensors')) && 'weights/tiny-gpt2 is not there' }, () => {
  assertFails(runCli(['lens', '--text', '']), /--text "" is empty: it tokenises to no tokens/);
});

test('lens --position is checked and reported as given', () => {
  assertFails(runCli(['lens', '--model', GPT2, '--ids', '1,2,3,4,5', '--position', '-99']), /--position -99 is outside the 5 tokens of the input[\s\S]*use 0 … 4, or -5 … -1/);
  assertFails(runCli(['lens', '--model', GPT2, '--ids', '1,2,3,4,5', '--position', '5']), /--position 5 is outside the 5 tokens/);
  assertFails(runCli(['lens', '--model', GPT2, '--ids', '1,2,3', '--position', '1.5']), /--position must be an integer, got '1\.5'/);
  const ok = runCli(['lens', '--model', GPT2, '--ids', '1,2,3,4,5', '--position', '-2', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { position: number }).position, 3);
});

test('--audio and --image on a text model, --text on an image model: say which models take them', () => {
  assertFails(runCli(['lens', '--model', GPT2, '--ids', '1,2', '--audio', 'speech.wav']), /--audio is for Whisper models \(audio\); .*gpt2-tiny is a GPT-2 model, which takes --text "…" or --ids 1,2,3/);
  assertFails(runCli(['lens', '--model', GPT2, '--image', IMAGE]), /--image is for ViT models \(images\); .*gpt2-tiny is a GPT-2 model/);
  assertFails(runCli(['lens', '--model', VIT, '--image', IMAGE, '--text', 'a cat']), /--text is for GPT-2, Llama, GPT-NeoX, Gemma, BERT and Whisper models; .*vit-tiny is a ViT model, which takes --image PATH/);
  assertFails(runCli(['lens', '--model', VIT, '--image', IMAGE, '--position', '0']), /--position is for GPT-2, Llama, GPT-NeoX, Gemma, BERT and Whisper models/);
});

test('a PNG or WAV given as --text-file / --ids-file is rejected, not analysed as text', () => {
  assertFails(runCli(['shortcuts', '--model', GPT2, '--text-file', IMAGE, '--out', join(dir, 'sc')]), /image\.png: is a PNG image, not a text file[\s\S]*hint: --text-file takes UTF-8 text/);
  assertFails(runCli(['saturation', '--model', GPT2, '--ids-file', IMAGE, '--out', join(dir, 'sat')]), /is a PNG image, not a text file/);
  const wav = join(dir, 'speech.txt');
  const header = Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1');
  writeFileSync(wav, Buffer.concat([header, Buffer.from([0x10, 0, 0, 0, 1, 0, 1, 0, 0x80, 0x3e, 0, 0])]));
  assertFails(runCli(['probe', '--model', GPT2, '--J0', '0', '--text-file', wav]), /speech\.txt: is WAV audio, not a text file/);
  const latin1 = join(dir, 'latin1.txt');
  writeFileSync(latin1, Buffer.from('caf\xe9 au lait\n', 'latin1'));
  assertFails(runCli(['shortcuts', '--model', GPT2, '--text-file', latin1, '--out', join(dir, 'sc')]), /latin1\.txt: is binary data, not a text file \(it is not valid UTF-8\)/);
});

/** Files left in `out` (the PNGs and any temporary `.partial`). */
function leftovers(out: string): string[] {
  return existsSync(out) ? readdirSync(out) : [];
}

test('heads --out on a full disk: one line naming the file, no 0-byte or partial PNG left', () => {
  const out = join(dir, 'heads-full');
  const r = runCli(['heads', '--model', GPT2, '--batch', '2', '--n-tokens', '5', '--out', out], { nodeArgs: ['--import', FAIL_WRITES], env: { TFJS_LENS_TEST_FAIL_DIR: out, TFJS_LENS_TEST_FAIL_CODE: 'ENOSPC' } });
  assertFails(r, /^tfjs-lens: cannot write .*heads-induction\.png: no space left on device \(ENOSPC\)$/m);
  assert.deepEqual(leftovers(out), []);
});

test('heads --out on a read-only folder: one line, nothing written', () => {
  const out = join(dir, 'heads-ro');
  mkdirSync(out);
  const simulated = runCli(['heads', '--model', GPT2, '--batch', '2', '--n-tokens', '5', '--out', out], { nodeArgs: ['--import', FAIL_WRITES], env: { TFJS_LENS_TEST_FAIL_DIR: out, TFJS_LENS_TEST_FAIL_CODE: 'EROFS' } });
  assertFails(simulated, /cannot write .*heads-induction\.png: read-only file system \(EROFS\)/);
  assert.deepEqual(leftovers(out), []);
  const notAFolder = join(dir, 'a-file');
  writeFileSync(notAFolder, 'x');
  assertFails(runCli(['heads', '--model', GPT2, '--out', join(notAFolder, 'out')]), /cannot write .*a-file\/out: cannot create the folder: .*\(ENOTDIR\)/);
});

test('heads --out on a folder without write permission (real chmod; root ignores permissions)', { skip: process.getuid?.() === 0 && 'running as root: permissions are not enforced' }, () => {
  const out = join(dir, 'heads-chmod');
  mkdirSync(out);
  chmodSync(out, 0o555);
  try {
    assertFails(runCli(['heads', '--model', GPT2, '--batch', '2', '--n-tokens', '5', '--out', out]), /cannot write .*heads-induction\.png: permission denied \(EACCES\)/);
    assert.deepEqual(leftovers(out), []);
  } finally {
    chmodSync(out, 0o755);
  }
});

test('shortcuts with fewer training rows than d_model warns that the fit is underdetermined', () => {
  const file = join(dir, 'few-ids.txt');
  writeFileSync(file, `${Array.from({ length: 12 }, (_, i) => [i + 1, 2 * i + 5, 3 * i + 7, 11].join(',')).join('\n')}\n`);
  const r = runCli(['shortcuts', '--model', GPT2, '--ids-file', file, '--n-train', '8', '--n-val', '4', '--out', join(dir, 'few'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /shortcuts: warning: 8 training rows .* for d_model = 64 .* underdetermined/);
  const report = JSON.parse(r.stdout) as { warnings: string[] };
  assert.equal(report.warnings.length, 1);
  assert.match(report.warnings[0]!, /underdetermined/);
});

test('an unexpected error is one "internal error" line (exit 2); TFJS_LENS_DEBUG=1 adds the stack', () => {
  const opts = { nodeArgs: ['--import', FAIL_WRITES], env: { TFJS_LENS_TEST_THROW: '1' } };
  const r = runCli(['hooks', '--model', GPT2], opts);
  assertFails(r, /^tfjs-lens: internal error: TypeError: simulated bug: x\.y is not a function \(set TFJS_LENS_DEBUG=1 for the stack trace\)$/m, { status: 2, lines: 1 });
  const debug = runCli(['hooks', '--model', GPT2], { ...opts, env: { ...opts.env, TFJS_LENS_DEBUG: '1' } });
  assert.equal(debug.status, 2);
  assert.match(debug.stderr, /internal error: TypeError: simulated bug[\s\S]*\n\s+at /);
});

test('probing the webgpu backend prints no Dawn/Vulkan warnings, only its own message', () => {
  const r = runCli(['lens', '--model', GPT2, '--ids', '1,2', '--backend', 'webgpu']);
  assert.doesNotMatch(r.stderr, /^Warning:|BackendVk\.cpp|^\s+at operator\(\)/m);
  if (r.status !== 0) assertFails(r, /backend 'webgpu' is not available/);
});

test('usage errors (unknown option or command, missing argument) are one line and a hint, not the whole help', () => {
  assertFails(runCli(['lens', '--foo']), /^tfjs-lens: unknown option '--foo'\n  hint: add --help/);
  assertFails(runCli(['nosuch']), /^tfjs-lens: unknown command 'nosuch'/);
  assertFails(runCli(['lens', '--top']), /^tfjs-lens: option '-k, --top <k>' argument missing/);
});
