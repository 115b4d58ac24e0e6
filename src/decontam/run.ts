// `mathpipe decontam`: stream documents, drop the contaminated ones (or their contaminated paragraphs).
// Clean records are written from their original line, byte for byte; memory holds the index and a
// few input blocks, whatever the corpus size. With --jobs > 1, worker threads (cli/worker-pool) do the matching.
import { writeOutputFile } from '../cli/output-file.js';
import { IoError, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { reportSkipped, runRecordLoop } from '../jsonl/index.js';
import { buildIndex, type BenchOptions } from './bench.js';
import { readIndexFile, shareIndex } from './index-file.js';
import type { NgramIndex } from './ngram-index.js';
import { WorkerPool } from '../cli/worker-pool.js';
import { blockHandler, owned, type BlockResult, type BlockTask, type ScanWorkerData } from './block-scan.js';
import { readBlocks } from './blocks.js';
import { newCounts, type ScanCounts, type ScanOptions } from './scan.js';

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
  /** Worker threads for matching; 1 scans on the main thread. */
  jobs: number;
}

export interface Report {
  mode: string;
  n: number;
  jobs: number;
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
  /** How the index was built: --max-items and the stoplist (sources, entries). */
  rules: NgramIndex['rules'];
  /** Benchmark n-grams and whole texts the stoplist removed from the index (all benchmarks). */
  stoplist_removed: number;
  /** Those removed for being shared by --max-items or more benchmark items. */
  common_removed: number;
  benchmarks: NgramIndex['benchmarks'];
}

export async function loadIndex(o: Pick<DecontamOptions, 'bench' | 'index' | 'n' | 'fields' | 'idField' | 'maxItems' | 'stoplist'>): Promise<NgramIndex> {
  if (o.index) {
    const index = readIndexFile(o.index);
    if (o.n !== undefined && o.n !== index.n) throw new UsageError(`-n ${o.n} differs from the index's n = ${index.n} (${o.index})`);
    return index;
  }
  if (!o.bench?.length) throw new UsageError('give benchmark files with --bench FILE..., or a prebuilt --index FILE');
  return buildIndex(o.bench, o.n ?? DEFAULT_N, o);
}

export async function runDecontam(o: DecontamOptions): Promise<Report> {
  const t0 = performance.now();
  let index = await loadIndex(o);
  // Worker threads share one copy of the index; the main thread then views that copy too.
  if (o.jobs > 1) index = shareIndex(index);
  const scan: ScanOptions = { textField: o.textField, mode: o.mode, skipInvalid: o.skipInvalid, evidence: Boolean(o.removed) };
  const counts = newCounts();
  const hits = index.benchmarks.map(() => 0);
  const add = (c: ScanCounts, h: number[]) => {
    for (const k of Object.keys(counts) as (keyof ScanCounts)[]) counts[k] += c[k];
    h.forEach((v, i) => (hits[i] += v));
  };
  // Blocks of lines go to the workers (or, with -j 1, to a scanner on this thread) and come back in order.
  const workers = o.jobs > 1 ? o.jobs : 0;
  const pool = new WorkerPool<BlockTask, BlockResult>({
    script: new URL('./worker.js', import.meta.url),
    workerData: workers ? ({ index: shareIndex(index).backing!, opts: scan } satisfies ScanWorkerData) : undefined,
    workers,
    local: () => blockHandler(index, scan),
    transfer: (t) => [t.buf.buffer as ArrayBuffer],
  });
  const { stats } = await runRecordLoop<BlockTask, BlockResult>({
    label: 'decontam',
    inputs: o.inputs,
    output: o.output,
    side: o.removed,
    async *batches(stats) {
      for await (const b of readBlocks(o.inputs, stats)) yield { file: b.file, firstLine: b.firstLine, buf: workers ? owned(b.buf) : b.buf };
    },
    pool,
    emit(r, stats) {
      add(r.counts, r.hits);
      stats.skipped += r.skipped;
      stats.records += r.counts.docs_in;
      // Evidence lines are joined by "\n"; the writer adds the last newline.
      return { out: { bytes: r.kept, lines: r.keptLines }, side: r.removed ? [r.removed] : undefined };
    },
  });

  const r: Report = {
    mode: o.mode,
    n: index.n,
    jobs: o.jobs,
    ...counts,
    hits: Object.fromEntries(index.benchmarks.map((b, i) => [b.name, hits[i]])),
    skipped_invalid_lines: stats.skipped,
    bytes_in: stats.bytes,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
    rules: index.rules,
    stoplist_removed: index.benchmarks.reduce((n, b) => n + b.stoplisted, 0),
    common_removed: index.benchmarks.reduce((n, b) => n + b.common, 0),
    benchmarks: index.benchmarks,
  };
  reportSkipped(stats);
  if (r.skipped_records_without_text) {
    warn(`skipped ${r.skipped_records_without_text} record(s) without a string "${o.textField}" field (--skip-invalid)`);
  }
  if (o.report) {
    try {
      writeOutputFile(o.report, JSON.stringify(r, null, 2) + '\n');
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
