// Options shared by many commands, defined once so their names, help and defaults never drift.
import { availableParallelism } from 'node:os';
import type { Argv, Options } from 'yargs';
import { UsageError } from './errors.js';
import { warn } from './log.js';

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
    coerce: (v: number) => number(v, '--seed'),
  },
} as const satisfies Record<string, Options>;

/** The JSONL field holding a document's text; read through recordText / textFieldProblem (src/jsonl). */
export const textField = {
  'text-field': { type: 'string', default: 'text', requiresArg: true, describe: 'JSONL field holding the document text' },
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

// The command line as typed and the options' aliases (main.ts notes them): a numeric option given a word
// reaches the checks below as NaN, and the message should show what was typed instead.
let typed: readonly string[] = [];
let aliases: Record<string, string[]> = {};

export function noteArgs(args: readonly string[], optionAliases: Record<string, string[]>): void {
  typed = args;
  aliases = optionAliases;
}

/** How a bad value is shown in a message: what was typed for `flag` when yargs made it NaN. */
function shown(v: unknown, flag: string): string {
  if (typeof v !== 'number' || !Number.isNaN(v)) return String(v);
  const names = new Set<string>();
  for (const m of flag.matchAll(/--?([A-Za-z][\w-]*)/g)) {
    names.add(m[1]);
    for (const [k, list] of Object.entries(aliases)) if (k === m[1] || list.includes(m[1])) [k, ...list].forEach((n) => names.add(n));
  }
  for (let i = typed.length - 1; i >= 0; i--) {
    const a = typed[i];
    for (const n of names) {
      for (const name of n.length === 1 ? ['-' + n, '--' + n] : ['--' + n]) {
        if (a === name && i + 1 < typed.length) return typed[i + 1];
        if (a.startsWith(name + '=')) return a.slice(name.length + 1);
      }
    }
  }
  return 'not a number';
}

/**
 * The value of a thread or job count option (-j, --jobs, --workers, --threads, --thread), checked and
 * capped at 4x the cores: past that, threads add memory (each has its own heap; `decontam -j 1000` took
 * GBs in seconds) and start-up time, not speed. Capping warns once.
 */
export function workerCount(v: unknown, flag: string, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new UsageError(`${flag} must be an integer >= ${min} (got ${shown(v, flag)})`);
  const max = 4 * availableParallelism();
  if (v > max) warn(`${flag} ${v} capped to ${max} (4x cores)`);
  const n = Math.min(v, max);
  // Each worker thread pipes its stdout and stderr into ours, adding listeners to them: make room, or
  // the next listener (an output writer) prints a MaxListenersExceededWarning.
  for (const s of [process.stdout, process.stderr]) s.setMaxListeners(s.getMaxListeners() + n);
  return n;
}

/**
 * An integer option's value, checked: in [min, max] or a usage error that names the flag, the range and what was
 * given (yargs turns "abc" into NaN). `flag` as the user types it ("--steps", "-n").
 */
export function integer(v: unknown, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
  throw new UsageError(`${flag} must be an integer ${range} (got ${shown(v, flag)})`);
}

/** integer() for an option that may be unset (undefined passes through). */
export function optionalInteger(v: unknown, flag: string, min: number, max?: number): number | undefined {
  return v === undefined ? undefined : integer(v, flag, min, max);
}

/** Where a number option may lie: `min`/`max` inclusive, `above`/`below` exclusive; none: any finite number. */
export interface Bounds {
  min?: number;
  above?: number;
  max?: number;
  below?: number;
}

/**
 * A number option's value, checked: finite and within `bounds`, or a usage error that names the flag, the bounds
 * ("> 0", "in (0, 1]") and what was given. A string option holding a number (`--budget 40e9`) is read as one.
 */
export function number(v: unknown, flag: string, bounds: Bounds = {}): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  const { min, above, max, below } = bounds;
  if (
    typeof n === 'number' &&
    Number.isFinite(n) &&
    (min === undefined || n >= min) &&
    (above === undefined || n > above) &&
    (max === undefined || n <= max) &&
    (below === undefined || n < below)
  )
    return n;
  throw new UsageError(`${flag} must be a number${describeBounds(bounds)} (got ${shown(v, flag)})`);
}

function describeBounds({ min, above, max, below }: Bounds): string {
  const lo = min ?? above;
  const hi = max ?? below;
  if (lo !== undefined && hi !== undefined) return ` in ${min !== undefined ? '[' : '('}${lo}, ${hi}${max !== undefined ? ']' : ')'}`;
  if (lo !== undefined) return ` ${min !== undefined ? '>=' : '>'} ${lo}`;
  if (hi !== undefined) return ` ${max !== undefined ? '<=' : '<'} ${hi}`;
  return '';
}

/** A byte count with an optional K, M or G suffix (powers of 1024, as in coreutils): "50M", "1.5G", "4096". */
export function byteSize(v: unknown, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(String(v).trim());
  const unit: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
  const n = m ? Math.round(Number(m[1]) * unit[m[2]!.toUpperCase()]!) : NaN;
  if (!(n >= 1)) throw new UsageError(`${flag} must be a size in bytes, like 50M, 1G or 65536 (got ${shown(v, flag)})`);
  return n;
}
