/** A view's run controls: Run and Cancel buttons, a progress bar and the error line of the last run. */
import { ApiError, runJob } from './api.js';
import { el } from './dom.js';

/** Controls of one heavy job. */
export interface JobControls {
  root: HTMLElement;
  /** Runs `path` with `body()` and hands the result to `done`; errors are shown in the view. */
  run<T>(path: string, body: unknown, done: (result: T) => Promise<void> | void): Promise<void>;
}

/** Creates the controls; `id` prefixes the element ids (`${id}-run`, `${id}-cancel`, `${id}-progress`, `${id}-error`). */
export function jobControls(id: string, label: string, onRun: () => void): JobControls {
  const runButton = el('button', { type: 'button', id: `${id}-run`, text: label });
  const cancel = el('button', { type: 'button', id: `${id}-cancel`, text: 'Cancel', disabled: '' });
  const progress = el('progress', { id: `${id}-progress`, max: '1', value: '0' });
  const stage = el('span', { class: 'stage', id: `${id}-stage` });
  const error = el('div', { class: 'error', id: `${id}-error`, role: 'alert' });
  let controller: AbortController | undefined;
  runButton.addEventListener('click', onRun);
  cancel.addEventListener('click', () => controller?.abort());
  const root = el('div', { class: 'job' }, runButton, cancel, progress, stage, error);
  return {
    root,
    async run(path, body, done) {
      controller?.abort();
      controller = new AbortController();
      const mine = controller;
      error.textContent = '';
      runButton.disabled = true;
      cancel.disabled = false;
      stage.textContent = 'starting…';
      try {
        const result = await runJob(path, body, (p) => {
          progress.max = Math.max(1, p.total);
          progress.value = p.done;
          stage.textContent = `${p.stage} (${p.done}/${p.total})`;
        }, mine.signal);
        stage.textContent = 'done';
        progress.value = progress.max;
        await done(result as never);
      } catch (err) {
        if (mine.signal.aborted) stage.textContent = 'cancelled';
        else {
          stage.textContent = 'failed';
          error.textContent = err instanceof ApiError ? `${err.message}${err.hint ? ` — ${err.hint}` : ''}` : String(err);
        }
      } finally {
        runButton.disabled = false;
        cancel.disabled = true;
      }
    },
  };
}
