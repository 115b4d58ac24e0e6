// The stoplist: benchmark word sequences that are frequent in ordinary text, so finding one in a
// document is no evidence that the document copied a benchmark (build.ts, rule 1).
//
// `mathpipe decontam stoplist` measures it: every benchmark n-gram and short text is looked for in
// every document of a clean corpus (text known not to copy the benchmarks: pages from before they were
// published, or any corpus whose matches you have checked), and the sequences found in --min-docs
// distinct documents or more are written out, one a line, as normalised words ("\frac 1 2 ..."), so
// that the file is readable, can be edited, and does not depend on the hash functions.
// The default stoplist (stoplist-data.ts) was measured this way; `bench/decontam/stoplist.sh` remakes it.
import { info } from '../cli/log.js';
import { readJsonlBatches, newReadStats, withWriter } from '../jsonl/index.js';
import { buildIndex, type BenchOptions } from './bench.js';
import { STOP_K } from './stopset.js';
import type { Hit } from './ngram-index.js';
import { Words, splitWords, wordString } from './words.js';

export interface StoplistOptions extends BenchOptions {
  bench: string[];
  n: number;
  inputs: string[];
  textField: string;
  minDocs: number;
  output?: string;
  skipInvalid: boolean;
}

export interface StoplistResult {
  docs: number;
  /** Sequence (normalised words) -> documents holding it. */
  counts: Map<string, number>;
  entries: string[];
}

/**
 * Count, for every benchmark STOP_K-gram and every short benchmark text, the clean documents holding it;
 * keep those found in minDocs documents or more.
 */
export async function measureStoplist(o: StoplistOptions): Promise<StoplistResult> {
  // Every sequence of the benchmarks, none left out: the stoplist is what decides.
  const all = { ...o, maxItems: 0, stoplist: ['none'] };
  const kgrams = await buildIndex(o.bench, STOP_K, all);
  const texts = o.n > STOP_K ? await buildIndex(o.bench, o.n, all) : undefined;
  const counts = new Map<string, number>();
  const w = new Words();
  const stats = newReadStats();
  let docs = 0;
  for await (const batch of readJsonlBatches(o.inputs, { skipInvalid: o.skipInvalid, stats })) {
    for (const rec of batch) {
      const text = rec.value[o.textField];
      if (typeof text !== 'string') continue;
      docs++;
      splitWords(text, w);
      const seen = new Set<string>();
      const add = (h: Hit) => {
        const words: string[] = [];
        for (let i = h.word; i < h.word + h.words; i++) words.push(wordString(w, i));
        seen.add(words.join(' '));
      };
      kgrams.forEachHit(w, add);
      texts?.forEachHit(w, (h) => h.words < o.n && add(h));
      for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
    }
  }
  const entries = [...counts]
    .filter(([, c]) => c >= o.minDocs)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([s]) => s);
  return { docs, counts, entries };
}

export async function runStoplist(o: StoplistOptions): Promise<void> {
  const r = await measureStoplist(o);
  const head = [
    '# mathpipe decontam stoplist: benchmark word sequences found in at least ' +
      `${o.minDocs} of ${r.docs} clean documents (n = ${o.n}); one normalised sequence a line.`,
  ];
  await withWriter(o.output, async (out) => {
    for (const line of [...head, ...r.entries]) {
      const p = out.write(line);
      if (p) await p;
    }
  });
  info(`${r.entries.length} sequences in >= ${o.minDocs} of ${r.docs} documents (${r.counts.size} benchmark sequences found at all)`);
}
