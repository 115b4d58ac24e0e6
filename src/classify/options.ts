// Checking and converting the parsed command-line options of classify's sub-commands.
import { availableParallelism } from 'node:os';
import { UsageError } from '../cli/errors.js';
import { integer, number, workerCount } from '../cli/options.js';
import { effectiveBucket, supervisedDefaults, type Args, type LossName } from './args.js';
import type { Normalize } from './normalize.js';

export function trainArgs(argv: Record<string, unknown>): Args {
  const a = supervisedDefaults();
  a.dim = integer(argv.dim, '--dim', 1, 1 << 16);
  a.lr = number(argv.lr, '--lr', { above: 0, max: 1e3 });
  a.epoch = integer(argv.epoch, '--epoch', 1, 1e6);
  a.wordNgrams = integer(argv.wordNgrams, '--wordNgrams', 1, 100);
  a.minCount = integer(argv.minCount, '--minCount', 1, 2 ** 31 - 1);
  a.minCountLabel = integer(argv.minCountLabel, '--minCountLabel', 0, 2 ** 31 - 1);
  a.minn = integer(argv.minn, '--minn', 0, 100);
  a.maxn = integer(argv.maxn, '--maxn', 0, 100);
  if (a.maxn > 0 && a.minn > a.maxn) throw new UsageError('--minn must not exceed --maxn');
  if (a.maxn > 0 && a.minn === 0) a.minn = 1;
  a.bucket = integer(argv.bucket, '--bucket', 0, 2 ** 31 - 1);
  if (a.bucket === 0 && (a.wordNgrams > 1 || a.maxn > 0)) throw new UsageError('--bucket must be positive when --wordNgrams > 1 or --maxn > 0');
  const loss = argv.loss === 'one-vs-all' ? 'ova' : (argv.loss as LossName);
  a.loss = loss;
  a.neg = integer(argv.neg, '--neg', 1, 1e6);
  a.lrUpdateRate = integer(argv.lrUpdateRate, '--lrUpdateRate', 1, 2 ** 31 - 1);
  a.t = number(argv.t, '-t', { min: 0, max: 1 });
  a.thread = argv.thread === undefined ? Math.min(12, availableParallelism()) : workerCount(argv.thread, '--thread');
  a.seed = integer(argv.seed, '--seed', 0, 2 ** 31 - 1);
  a.label = String(argv.label);
  if (!a.label || /\s/.test(a.label)) throw new UsageError('--label must be a non-empty prefix without spaces');
  a.bucket = effectiveBucket(a);
  return a;
}

export function normalizeFor(choice: unknown, stored: Normalize | undefined): Normalize {
  if (choice === 'web' || choice === 'none') return choice;
  return stored ?? 'none';
}
