// The CLI's failure text, input-flag, position, prompt and text-file checks, without spawning the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFailure, debugEnabled, EXIT_INTERNAL_ERROR, EXIT_USER_ERROR } from '../../../lib/cli/failure.js';
import { checkInputFlags, resolvePosition } from '../../../lib/cli/model-inputs.js';
import { intOption, promptIds, parseIdList } from '../../../lib/cli/text-input.js';
import { binaryKind } from '../../../lib/cli/text-file.js';
import { underdeterminedWarning } from '../../../lib/cli/shortcuts.js';
import { dawnReason } from '../../../lib/backend/webgpu-probe.js';
import { InvalidArgumentError, OutputWriteError } from '../../../lib/errors.js';

test('describeFailure: typed errors exit 1 with message + hint, system errors one line, others "internal error" exit 2', () => {
  const typed = describeFailure(new InvalidArgumentError('bad', 'fix it'), false);
  assert.deepEqual(typed, { text: 'tfjs-lens: bad\n  hint: fix it\n', exitCode: EXIT_USER_ERROR });
  const sys = describeFailure(Object.assign(new Error('EACCES: permission denied, open \'/x/y\''), { code: 'EACCES', syscall: 'open', path: '/x/y' }), false);
  assert.deepEqual(sys, { text: 'tfjs-lens: cannot open /x/y: permission denied (EACCES)\n', exitCode: EXIT_USER_ERROR });
  const bug = describeFailure(new TypeError('t.flat is not a function'), false);
  assert.equal(bug.exitCode, EXIT_INTERNAL_ERROR);
  assert.equal(bug.text, 'tfjs-lens: internal error: TypeError: t.flat is not a function (set TFJS_LENS_DEBUG=1 for the stack trace)\n');
  const debug = describeFailure(new TypeError('boom'), true);
  assert.match(debug.text, /^tfjs-lens: internal error: TypeError: boom\nTypeError: boom\n\s+at /);
  assert.match(describeFailure(new OutputWriteError('/o/a.png', 'x'), true).text, /\n\s+at /);
  assert.equal(describeFailure('a string', false).exitCode, EXIT_INTERNAL_ERROR);
  assert.equal(debugEnabled({ TFJS_LENS_DEBUG: '1' }), true);
  assert.equal(debugEnabled({ TFJS_LENS_DEBUG: '0' }), false);
  assert.equal(debugEnabled({}), false);
});

test('checkInputFlags names the models that take a flag; resolvePosition checks the position as given', () => {
  assert.throws(() => checkInputFlags('GPT-2', ['--ids', '--audio'], 'm'), /--audio is for Whisper models \(audio\); m is a GPT-2 model/);
  assert.throws(() => checkInputFlags('Whisper', ['--image'], 'w'), /--image is for ViT models \(images\); w is a Whisper model, which takes --audio/);
  assert.throws(() => checkInputFlags('BERT', ['--audio'], 'b'), /b is a BERT model/);
  checkInputFlags('Whisper', ['--audio', '--text', '--position'], 'w');
  assert.equal(resolvePosition(undefined, 4), 3);
  assert.equal(resolvePosition('-1', 4), 3);
  assert.equal(resolvePosition('-4', 4), 0);
  assert.throws(() => resolvePosition('-99', 4), (e: unknown) => e instanceof InvalidArgumentError && /--position -99 is outside the 4 tokens/.test(e.message));
  assert.throws(() => resolvePosition('4', 4), /--position 4 is outside/);
  assert.throws(() => resolvePosition('x', 4), /--position must be an integer, got 'x'/);
});

test('promptIds: ids checked against the vocabulary, empty text or ids are clear errors', () => {
  const tokenizer = { encode: (t: string) => [...t].map((c) => c.charCodeAt(0) % 50), decode: (ids: readonly number[]) => ids.join(' ') };
  assert.deepEqual(promptIds({ ids: '1, 2 3', vocabSize: 10 }), [1, 2, 3]);
  assert.deepEqual(promptIds({ text: 'ab', tokenizer, vocabSize: 50 }), [47, 48]);
  assert.throws(() => promptIds({ text: '', tokenizer, vocabSize: 50 }), /--text "" is empty: it tokenises to no tokens/);
  assert.throws(() => promptIds({ ids: ' ', vocabSize: 10 }), /--ids is empty/);
  assert.throws(() => promptIds({ ids: '1,abc', vocabSize: 10 }), /--ids: 'abc' is not an integer token id/);
  assert.throws(() => promptIds({ text: 'x', vocabSize: 10, modelDir: 'd', textFlag: '--clean', idsFlag: '--ids-clean' }), /d has no tokenizer, so --clean cannot be tokenised[\s\S]*--ids-clean/);
  assert.throws(() => promptIds({ vocabSize: 10 }), /pass --text "…" or --ids 1,2,3/);
  assert.throws(() => parseIdList('3,10', 10, '--ids'), /token id 10 is outside the vocabulary \[0, 10\)/);
  // only decimal integers, reported as given
  for (const odd of ['1e3', '0x10', '1.0', '2.5']) assert.throws(() => parseIdList(`1,${odd}`, 5000, '--ids'), new RegExp(`'${odd.replace('.', '\\.')}' is not an integer token id`));
  assert.throws(() => parseIdList('99999999999999999999', 10, '--ids'), /token id 99999999999999999999 is outside/);
  assert.throws(() => intOption('1e1', 'top'), /--top must be an integer, got '1e1'/);
  assert.throws(() => intOption('99999999999999999999', 'seed'), /--seed must be an integer, got '99999999999999999999'/);
  assert.throws(() => intOption(' -3 ', 'batch', { min: 1 }), /--batch must be at least 1, got -3/);
  assert.equal(intOption('+7', 'k'), 7);
});

test('binaryKind names images, audio and other binary files', () => {
  assert.equal(binaryKind(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])), 'a PNG image');
  assert.equal(binaryKind(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), 'a JPEG image');
  assert.equal(binaryKind(new TextEncoder().encode('RIFF\0\0\0\0WAVEfmt ')), 'WAV audio');
  assert.equal(binaryKind(new Uint8Array([0x1f, 0x8b, 8, 0])), 'gzip-compressed data');
  assert.equal(binaryKind(new Uint8Array([1, 2, 0, 4])), 'binary data');
});

test('underdeterminedWarning: only when the training rows are fewer than d_model', () => {
  assert.equal(underdeterminedWarning(64, 64), undefined);
  assert.match(underdeterminedWarning(10, 64)!, /^10 training rows .* d_model = 64 .* underdetermined/);
});

test('dawnReason keeps the first warning line, without its prefix or source location', () => {
  const stderr = "Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory\n    at operator() (/home/runner/work/node-webgpu/third_party/dawn/src/dawn/native/vulkan/BackendVk.cpp:368)\n\n";
  assert.equal(dawnReason(stderr), "Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory");
  assert.equal(dawnReason('\n'), undefined);
});
