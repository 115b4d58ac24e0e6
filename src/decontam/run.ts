// `mathpipe decontam`: stream documents, drop the contaminated ones (or their contaminated paragraphs).
// Clean records are written from their original line, byte for byte; memory holds the index, one
// input batch and one output buffer, whatever the corpus size.
import { writeFileSync } from 'node:fs';
import { DataError, IoError, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { startProgress } from '../cli/progress.js';
import {
  JsonlWriter,
  newReadStats,
  readJsonlBatches,
  recordWhere,
  reportSkipped,
  totalSize,
  withFields,
  type JsonlRecord,
} from '../jsonl/index.js';
import { buildIndex, type BenchOptions } from './bench.js';
import { readIndexFile } from './index-file.js';
import type { Hit, NgramIndex } from './ngram-index.js';
import { keepParagraphs, paragraphs } from './segments.js';
import { Words, splitWords } from './words.js';

export const DEFAULT_N = 10;

export interface DecontamOptions extends BenchOptions {
  inputs: string[];
  bench?: string[];
  index?: string;
  n?: number;
  textField: string;
  mode: 'doc' | 'segment';
  output?: string;
  removed?: string;
  report?: string;
  skipInvalid: boolean;
}

export interface Report {
  mode: string;
  n: number;
  docs_in: number;
  docs_out: number;
  docs_removed: number;
  /** Segment mode: documents written with some paragraphs removed. */
  docs_modified: number;
  segments_removed: number;
  /** Removed documents (doc mode) or paragraphs (segment mode), by the benchmark of their first match. */
  hits: Record<string, number>;
  skipped_invalid_lines: number;
  skipped_records_without_text: number;
  bytes_in: number;
  seconds: number;
  benchmarks: NgramIndex['benchmarks'];
}

export async function loadIndex(o: Pick<DecontamOptions, 'bench' | 'index' | 'n' | 'fields' | 'idField'>): Promise<NgramIndex> {
  if (o.index) {
    const index = readIndexFile(o.index);
    if (o.n !== undefined && o.n !== index.n) throw new UsageError(`-n ${o.n} differs from the index's n = ${index.n} (${o.index})`);
    return index;
  }
  if (!o.bench?.length) throw new UsageError('give benchmark files with --bench FILE..., or a prebuilt --index FILE');
  return buildIndex(o.bench, o.n ?? DEFAULT_N, o);
}

function describe(index: NgramIndex, w: Words, hit: Hit) {
  const words: string[] = [];
  for (let i = hit.word; i < hit.word + hit.words; i++) words.push(w.text.slice(w.start[i], w.end[i]));
  return { ngram: words.join(' ').replace(/['’ʼ]/g, '').toLowerCase(), ...index.source(hit.text) };
}

export async function runDecontam(o: DecontamOptions): Promise<Report> {
  const t0 = performance.now();
  const index = await loadIndex(o);
  const hits: Record<string, number> = Object.fromEntries(index.benchmarks.map((b) => [b.name, 0]));
  const r: Report = {
    mode: o.mode,
    n: index.n,
    docs_in: 0,
    docs_out: 0,
    docs_removed: 0,
    docs_modified: 0,
    segments_removed: 0,
    hits,
    skipped_invalid_lines: 0,
    skipped_records_without_text: 0,
    bytes_in: 0,
    seconds: 0,
    benchmarks: index.benchmarks,
  };
  const out = JsonlWriter.open(o.output);
  const removed = o.removed ? JsonlWriter.open(o.removed) : null;
  const stats = newReadStats();
  const progress = startProgress('decontam', () => ({ records: stats.records, bytes: stats.bytes }), totalSize(o.inputs));
  const w = new Words();
  const field = o.textField;
  try {
    for await (const batch of readJsonlBatches(o.inputs, { skipInvalid: o.skipInvalid, stats })) {
      for (const rec of batch) {
        r.docs_in++;
        const text = rec.value[field];
        if (typeof text !== 'string') {
          if (!o.skipInvalid) {
            throw new DataError(recordWhere(rec), text === undefined ? `missing field "${field}" (choose it with --text-field)` : `field "${field}" is not a string`);
          }
          r.skipped_records_without_text++;
          continue;
        }
        if (o.mode === 'segment') await segmentDoc(rec, text);
        else {
          const hit = index.firstHit(splitWords(text, w));
          if (!hit) {
            r.docs_out++;
            const p = out.write(rec.raw);
            if (p) await p;
            continue;
          }
          r.docs_removed++;
          const d = describe(index, w, hit);
          hits[d.benchmark]++;
          if (removed) {
            const p = removed.write(withFields(rec, { decontam: d }));
            if (p) await p;
          }
        }
      }
    }
    await out.close();
    await removed?.close();
  } catch (e) {
    out.abort();
    removed?.abort();
    throw e;
  } finally {
    progress.stop();
  }

  async function segmentDoc(rec: JsonlRecord, text: string): Promise<void> {
    const spans = paragraphs(text);
    const keep: boolean[] = [];
    let cut = 0;
    for (let i = 0; i < spans.length; i++) {
      const hit = index.firstHit(splitWords(text.slice(spans[i].start, spans[i].end), w));
      keep.push(!hit);
      if (!hit) continue;
      cut++;
      const d = describe(index, w, hit);
      hits[d.benchmark]++;
      if (removed) {
        const id = rec.value.id;
        const p = removed.writeJson({
          id: typeof id === 'string' || typeof id === 'number' ? id : null,
          where: recordWhere(rec),
          segment: i,
          text: text.slice(spans[i].start, spans[i].end),
          decontam: d,
        });
        if (p) await p;
      }
    }
    r.segments_removed += cut;
    if (cut === spans.length) {
      r.docs_removed++;
      return;
    }
    r.docs_out++;
    if (cut) r.docs_modified++;
    const p = cut ? out.write(withFields(rec, { [field]: keepParagraphs(text, spans, keep) })) : out.write(rec.raw);
    if (p) await p;
  }

  r.skipped_invalid_lines = stats.skipped;
  r.bytes_in = stats.bytes;
  r.seconds = Number(((performance.now() - t0) / 1000).toFixed(3));
  reportSkipped(stats);
  if (r.skipped_records_without_text) {
    warn(`skipped ${r.skipped_records_without_text} record(s) without a string "${field}" field (--skip-invalid)`);
  }
  if (o.report) {
    try {
      writeFileSync(o.report, JSON.stringify(r, null, 2) + '\n');
    } catch (e) {
      throw new IoError(`cannot write ${o.report}: ${(e as Error).message}`);
    }
  }
  info(summary(r));
  return r;
}

function summary(r: Report): string {
  const by = Object.entries(r.hits)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const unit = r.mode === 'segment' ? `; ${r.segments_removed} paragraphs removed, ${r.docs_modified} docs trimmed` : '';
  const mbs = r.seconds > 0 ? (r.bytes_in / 1e6 / r.seconds).toFixed(1) : '-';
  return `${r.docs_in} docs in, ${r.docs_out} out, ${r.docs_removed} removed${unit}${by ? ` (${by})` : ''}; ${r.seconds}s, ${mbs} MB/s`;
}
