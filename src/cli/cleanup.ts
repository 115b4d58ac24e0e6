// Files that must not survive an interrupted run (partial outputs written under a temporary name).
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
