// What happens when a run is cut short: temporaries that must not survive it (partial outputs written
// under a temporary name), and commands that want to finish their own way (training saves a checkpoint).
import { rmSync } from 'node:fs';

const pending = new Set<string>();

export function trackTemp(path: string): void {
  pending.add(path);
}

export function untrackTemp(path: string): void {
  pending.delete(path);
}

export function removeTemps(): void {
  for (const p of pending) rmSync(p, { force: true, recursive: true }); // recursive: checkpoints are temp directories
  pending.clear();
}

/** Why a run is asked to stop: Ctrl-C / SIGTERM, or the reader of stdout went away (`| head`). */
export type StopReason = 'signal' | 'pipe';

let stopHandler: ((why: StopReason) => void) | undefined;

/**
 * Ask to be told, instead of the process exiting at once, when the user stops the run. The command then
 * ends by itself (a second Ctrl-C still exits at once). Returns the function that withdraws the request.
 */
export function onStop(handler: (why: StopReason) => void): () => void {
  stopHandler = handler;
  return () => {
    if (stopHandler === handler) stopHandler = undefined;
  };
}

/** For the CLI's signal and EPIPE handlers: true when a command took the stop request (once). */
export function requestStop(why: StopReason): boolean {
  const h = stopHandler;
  if (!h) return false;
  stopHandler = undefined;
  h(why);
  return true;
}
