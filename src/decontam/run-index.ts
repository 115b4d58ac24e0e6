// `mathpipe decontam index`: build the benchmark index once, write it to a file.
import { info } from '../cli/log.js';
import { buildIndex, type BenchOptions } from './bench.js';
import { writeIndexFile } from './index-file.js';
import { DEFAULT_N } from './run.js';
import { UsageError } from '../cli/errors.js';

export async function runIndex(o: BenchOptions & { bench?: string[]; n?: number; output: string }): Promise<void> {
  if (!o.bench?.length) throw new UsageError('give benchmark files with --bench FILE...');
  const t0 = performance.now();
  const index = await buildIndex(o.bench, o.n ?? DEFAULT_N, o);
  const bytes = writeIndexFile(o.output, index);
  const s = ((performance.now() - t0) / 1000).toFixed(2);
  const per = index.benchmarks.map((b) => `${b.name} ${b.items}`).join(', ');
  const sum = (k: 'stoplisted' | 'common' | 'unmatchable') => index.benchmarks.reduce((n, b) => n + b[k], 0);
  info(
    `${o.output}: ${index.grams.size} ${index.n}-grams, ${index.short.size} whole texts from ${index.benchmarks.length} benchmark file(s) (${per}); ` +
      `left out: ${sum('stoplisted')} by the stoplist, ${sum('common')} ${index.rules.max_items ? `in >= ${index.rules.max_items} items` : '(no item limit)'}; ` +
      `${sum('unmatchable')} texts cannot match; ${(bytes / 1e6).toFixed(1)} MB in ${s}s`,
  );
}
