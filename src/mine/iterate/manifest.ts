// The loop's state, DIR/iterate.json: the configuration it was started with and, per round, the steps
// done and what the round found. Rewritten (atomically) after every step, so an interrupted loop
// resumes at the first step not done, and anyone can read where a run stands.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, UsageError } from '../../cli/errors.js';
import { writeOutputFile } from '../../cli/output-file.js';

export interface RoundState {
  round: number;
  done: string[];
  positives?: number;
  negatives?: number;
  dedup?: Record<string, unknown>;
  decontam?: Record<string, unknown>;
  selected_documents?: number;
  selected_tokens?: number;
  cutoff_score?: number | null;
  /** |S_k ∩ S_k-1| / |S_k| (null in round 1). */
  overlap_previous?: number | null;
  /** Selected documents no earlier round selected. */
  new_documents?: number;
  flagged_domains?: string[];
  accepted_patterns?: number;
  expanded?: number;
}

export interface Manifest {
  config: Record<string, unknown>;
  rounds: RoundState[];
  stopped: { reason: 'converged' | 'max-iterations'; round: number } | null;
}

export const manifestPath = (dir: string) => join(dir, 'iterate.json');

export function loadManifest(dir: string, config: Record<string, unknown>): Manifest {
  const p = manifestPath(dir);
  if (!existsSync(p)) return { config, rounds: [], stopped: null };
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(p, 'utf8')) as Manifest;
  } catch (e) {
    throw new DataError(p, `unreadable loop manifest (${(e as Error).message})`);
  }
  // --max-iterations may change between runs (to go on after a stop); nothing else may.
  const strip = (c: Record<string, unknown>) => JSON.stringify({ ...c, maxIterations: undefined });
  if (strip(m.config) !== strip(config)) {
    throw new UsageError(`${dir} holds a loop started with other settings (${p}); resume with the same options, or use another --dir`);
  }
  m.config = config;
  return m;
}

export function saveManifest(dir: string, m: Manifest): void {
  writeOutputFile(manifestPath(dir), `${JSON.stringify(m, null, 1)}\n`);
}
