/**
 * `tfjs-lens explore`: starts the interactive web explorer (lib/explore/) on 127.0.0.1 and a free port,
 * prints its URL and serves until interrupted. `--host` other than loopback prints a warning (the server
 * has no authentication); `--open` tries the system's browser opener.
 */
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { isLoopback, startExploreServer } from '../explore/server.js';
import { BACKEND_HELP } from './common.js';
import { intOption } from './text-input.js';

interface ExploreOptions {
  model?: string;
  backend?: string;
  host: string;
  port: string;
  open?: boolean;
  maxUpload: string;
  vitModel?: string;
  whisperModel?: string;
}

/** Best effort: opens `url` with the platform's opener; failures are ignored (the URL is printed anyway). */
function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener: the printed URL is enough
  }
}

/** Registers `explore`. */
export function registerExplore(program: Command): void {
  program
    .command('explore')
    .description('interactive web explorer: logit lens, attention, patching, saturation, shortcuts and probe logs in the browser')
    .option('-m, --model <dir|hubId>', 'a causal LM checkpoint with a tokenizer: GPT-2, Llama, GPT-NeoX, Gemma (default: the shipped tiny GPT-2)')
    .option('--host <host>', 'interface to listen on (anything but loopback is reachable by others: no authentication)', '127.0.0.1')
    .option('--port <n>', 'port (0: a free one)', '0')
    .option('--open', 'open the page in the default browser (best effort)')
    .option('--max-upload <bytes>', 'largest uploaded file (shortcuts report, probe log)', String(8 * 1024 * 1024))
    .option('--vit-model <dir|hubId>', 'a ViT checkpoint for the image view (patch-level class lens of an uploaded image)')
    .option('--whisper-model <dir|hubId>', 'a Whisper checkpoint for the audio view (transcript of an uploaded WAV file and the decoder lens over it)')
    .option('-b, --backend <name>', BACKEND_HELP)
    .action(async (opts: ExploreOptions) => {
      const port = intOption(opts.port, 'port', { min: 0, max: 65535 });
      const maxUploadBytes = intOption(opts.maxUpload, 'max-upload', { min: 1 });
      if (!isLoopback(opts.host)) process.stderr.write(`explore: warning: listening on ${opts.host}, not loopback — anyone who can reach this address can use the explorer (it has no authentication)\n`);
      const server = await startExploreServer({ model: opts.model, backend: opts.backend, host: opts.host, port, limits: { maxUploadBytes }, vitModel: opts.vitModel, whisperModel: opts.whisperModel });
      process.stdout.write(`tfjs-lens explore: ${server.model.dir} on ${server.model.backend}\n${server.url}\n`);
      if (opts.open) openBrowser(server.url);
      const stop = () => {
        void server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
