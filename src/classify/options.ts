// Checking and converting the parsed command-line options of classify's sub-commands.
import { availableParallelism } from 'node:os';
import { UsageError } from '../cli/errors.js';
import { workerCount } from '../cli/options.js';
import { effectiveBucket, supervisedDefaults, type Args, type LossName } from './args.js';
import type { Normalize } from './normalize.js';

export function intOpt(argv: Record<string, unknown>, name: string, min: number, max = 2 ** 31 - 1): number {
  const v = argv[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${String(v)})`);
  }
  return v;
}

export function numOpt(argv: Record<string, unknown>, name: string, min: number, max = Infinity, minExclusive = false): number {
  const v = argv[name];
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max || (minExclusive && v === min)) {
    throw new UsageError(`--${name} must be a number ${minExclusive ? 'above' : 'from'} ${min}${max < Infinity ? ` to ${max}` : ''} (got ${String(v)})`);
  }
  return v;
}

export function trainArgs(argv: Record<string, unknown>): Args {
  const a = supervisedDefaults();
  a.dim = intOpt(argv, 'dim', 1, 1 << 16);
  a.lr = numOpt(argv, 'lr', 0, 1e3, true);
  a.epoch = intOpt(argv, 'epoch', 1, 1e6);
  a.wordNgrams = intOpt(argv, 'wordNgrams', 1, 100);
  a.minCount = intOpt(argv, 'minCount', 1);
  a.minCountLabel = intOpt(argv, 'minCountLabel', 0);
  a.minn = intOpt(argv, 'minn', 0, 100);
  a.maxn = intOpt(argv, 'maxn', 0, 100);
  if (a.maxn > 0 && a.minn > a.maxn) throw new UsageError('--minn must not exceed --maxn');
  if (a.maxn > 0 && a.minn === 0) a.minn = 1;
  a.bucket = intOpt(argv, 'bucket', 0, 2 ** 31 - 1);
  if (a.bucket === 0 && (a.wordNgrams > 1 || a.maxn > 0)) throw new UsageError('--bucket must be positive when --wordNgrams > 1 or --maxn > 0');
  const loss = argv.loss === 'one-vs-all' ? 'ova' : (argv.loss as LossName);
  a.loss = loss;
  a.neg = intOpt(argv, 'neg', 1, 1e6);
  a.lrUpdateRate = intOpt(argv, 'lrUpdateRate', 1);
  a.t = numOpt(argv, 't', 0, 1);
  a.thread = argv.thread === undefined ? Math.min(12, availableParallelism()) : workerCount(argv.thread, '--thread');
  a.seed = intOpt(argv, 'seed', 0);
  a.label = String(argv.label);
  if (!a.label || /\s/.test(a.label)) throw new UsageError('--label must be a non-empty prefix without spaces');
  a.bucket = effectiveBucket(a);
  return a;
}

export function normalizeFor(choice: unknown, stored: Normalize | undefined): Normalize {
  if (choice === 'web' || choice === 'none') return choice;
  return stored ?? 'none';
}
