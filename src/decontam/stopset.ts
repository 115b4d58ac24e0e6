// The stoplist as the index builder uses it: word sequences frequent in ordinary text (build.ts, rule 1).
// The built-in table is stoplist-data.ts; `mathpipe decontam stoplist` (stoplist.ts) measures new ones.
import { readFileSync } from 'node:fs';
import { IoError, UsageError } from '../cli/errors.js';
import { GramTable } from './table.js';
import { Hasher, saltA, saltB } from './ngram-index.js';
import { Words, splitWords } from './words.js';

/** Words in the links of rule 1b's chains: an n-gram all of whose word pairs are ordinary is ordinary. */
export const STOP_K = 2;

/**
 * Word sequences frequent in ordinary text, one a line (a measured stoplist holds word pairs and short
 * benchmark texts). A sequence is ordinary when it is a contiguous part of a line: every k-gram,
 * STOP_K <= k <= n, of every line is kept.
 */
export class StopSet {
  readonly table = new GramTable(10);
  entries = 0;
  /** Where the entries came from (files, "builtin"), for the report. */
  sources: string[] = [];

  constructor(readonly n: number) {}

  /** Add the entries of a stoplist text: one word sequence a line; "#" starts a comment line. */
  addText(text: string, source: string): void {
    const w = new Words();
    const h = new Hasher();
    this.sources.push(source);
    for (const line of text.split('\n')) {
      if (!line.trim() || line.startsWith('#')) continue;
      splitWords(line, w);
      if (w.count < STOP_K) continue;
      this.entries++;
      h.prefix(w);
      for (let k = STOP_K; k <= Math.min(this.n, w.count); k++) {
        for (let i = 0; i + k <= w.count; i++) this.table.add(h.a(i, k, true), h.b(i, k, true), 0);
      }
    }
  }

  /** Is the k-gram with these (unsalted) keys part of an entry? */
  has(a: number, b: number, k: number): boolean {
    return this.table.get((a ^ saltA[k]) >>> 0, (b ^ saltB[k]) >>> 0) !== -1;
  }
}

/**
 * The stoplist for an index of n-grams: "builtin" (the default), files, or "none". The built-in table
 * is imported only here, so a scan with a prebuilt --index never parses it.
 */
export async function loadStopSet(n: number, sources: string[] = ['builtin']): Promise<StopSet | undefined> {
  if (sources.includes('none')) {
    if (sources.length > 1) throw new UsageError('--stoplist none cannot be combined with other stoplists');
    return undefined;
  }
  const stop = new StopSet(n);
  for (const src of sources) {
    if (src === 'builtin') {
      stop.addText((await import('./stoplist-data.js')).BUILTIN_STOPLIST, 'builtin');
      continue;
    }
    let text: string;
    try {
      text = readFileSync(src, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new IoError(`cannot read stoplist ${src}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    }
    stop.addText(text, src);
  }
  return stop;
}
