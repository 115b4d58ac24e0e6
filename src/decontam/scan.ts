// Per-record decontamination, shared by the single-threaded loop and the worker threads: decide,
// count, and collect the output lines (kept records, removed evidence) for the caller to write.
import { DataError } from '../cli/errors.js';
import { recordWhere, textFieldProblem, withFields, type JsonlRecord } from '../jsonl/index.js';
import type { Hit, NgramIndex } from './ngram-index.js';
import { keepParagraphs, paragraphs } from './segments.js';
import { Words, splitWords, wordString } from './words.js';

export interface ScanOptions {
  textField: string;
  mode: 'doc' | 'segment';
  skipInvalid: boolean;
  /** Collect evidence lines for --removed. */
  evidence: boolean;
}

export interface ScanCounts {
  docs_in: number;
  docs_out: number;
  docs_removed: number;
  docs_modified: number;
  segments_removed: number;
  skipped_records_without_text: number;
}

export function newCounts(): ScanCounts {
  return { docs_in: 0, docs_out: 0, docs_removed: 0, docs_modified: 0, segments_removed: 0, skipped_records_without_text: 0 };
}

export class Scanner {
  counts = newCounts();
  /** Removals per benchmark (index order). */
  hits: number[];
  kept: string[] = [];
  removed: string[] = [];
  private w = new Words();

  constructor(
    private readonly index: NgramIndex,
    private readonly o: ScanOptions,
  ) {
    this.hits = index.benchmarks.map(() => 0);
  }

  /** Take the collected output lines (and start collecting afresh). */
  drain(): { kept: string[]; removed: string[] } {
    const r = { kept: this.kept, removed: this.removed };
    this.kept = [];
    this.removed = [];
    return r;
  }

  record(rec: JsonlRecord): void {
    const c = this.counts;
    c.docs_in++;
    const field = this.o.textField;
    const text = rec.value[field];
    if (typeof text !== 'string') {
      if (!this.o.skipInvalid) throw new DataError(recordWhere(rec), textFieldProblem(rec.value, field)!);
      c.skipped_records_without_text++;
      return;
    }
    if (this.o.mode === 'segment') return this.segments(rec, text);
    const hit = this.index.firstHit(splitWords(text, this.w));
    if (!hit) {
      c.docs_out++;
      this.kept.push(rec.raw);
      return;
    }
    c.docs_removed++;
    this.hits[this.index.benchOf(hit.text)]++;
    if (this.o.evidence) this.removed.push(withFields(rec, { decontam: this.describe(hit) }));
  }

  private segments(rec: JsonlRecord, text: string): void {
    const c = this.counts;
    const spans = paragraphs(text);
    const keep: boolean[] = [];
    let cut = 0;
    for (let i = 0; i < spans.length; i++) {
      const hit = this.index.firstHit(splitWords(text.slice(spans[i].start, spans[i].end), this.w));
      keep.push(!hit);
      if (!hit) continue;
      cut++;
      this.hits[this.index.benchOf(hit.text)]++;
      if (this.o.evidence) {
        const id = rec.value.id;
        this.removed.push(
          JSON.stringify({
            id: typeof id === 'string' || typeof id === 'number' ? id : null,
            where: recordWhere(rec),
            segment: i,
            text: text.slice(spans[i].start, spans[i].end),
            decontam: this.describe(hit),
          }),
        );
      }
    }
    c.segments_removed += cut;
    if (cut === spans.length) {
      c.docs_removed++;
      return;
    }
    c.docs_out++;
    if (cut) c.docs_modified++;
    this.kept.push(cut ? withFields(rec, { [this.o.textField]: keepParagraphs(text, spans, keep) }) : rec.raw);
  }

  /**
   * The hit as evidence: the matching words (normalised) and their benchmark source. Only --removed asks: the
   * source's item and field come from the index's list of texts, parsed on first use.
   */
  private describe(hit: Hit) {
    const w = this.w;
    const words: string[] = [];
    for (let i = hit.word; i < hit.word + hit.words; i++) words.push(wordString(w, i));
    return { ngram: words.join(' '), ...this.index.source(hit.text) };
  }
}
