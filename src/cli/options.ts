// Options shared by many commands, defined once so their names, help and defaults never drift.
import type { Argv, Options } from 'yargs';
import { UsageError } from './errors.js';

export const output = {
  output: {
    alias: 'o',
    type: 'string',
    requiresArg: true,
    describe: 'Write to FILE instead of stdout (".gz" compresses; the file appears only when complete)',
  },
} as const satisfies Record<string, Options>;

export const seed = {
  seed: {
    type: 'number',
    default: 1,
    describe: 'Random seed (same seed, same input: same output)',
    // "--seed abc" parses as NaN, which every RNG here would silently turn into some fixed stream.
    coerce: (v: number) => {
      if (!Number.isFinite(v)) throw new UsageError(`--seed must be a number (got ${String(v)})`);
      return v;
    },
  },
} as const satisfies Record<string, Options>;

export const skipInvalid = {
  'skip-invalid': {
    type: 'boolean',
    default: false,
    describe: 'Skip malformed input lines, count them and report the count, instead of stopping with exit 65',
  },
} as const satisfies Record<string, Options>;

/** Positional input files: JSONL, optionally gzipped; "-" or nothing means stdin. */
export function inputs<T>(y: Argv<T>, describe = 'Input JSONL files (.jsonl, .jsonl.gz); "-" or none reads stdin') {
  return y.positional('inputs', { type: 'string', array: true, default: [] as string[], describe });
}

/** Normalise the positional list: no files means stdin. */
export function inputList(v: unknown): string[] {
  const list = Array.isArray(v) ? v.map(String) : [];
  return list.length ? list : ['-'];
}
