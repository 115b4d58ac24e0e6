// `mathpipe decontam`: stream documents, drop the contaminated ones (or their contaminated paragraphs).
// Clean records are written from their original line, byte for byte; memory holds the index and a
// few input blocks, whatever the corpus size. With --jobs N, N threads match: the addon's (native-pool.ts),
// or without it (and in segment mode) this thread and N - 1 worker threads (cli/worker-pool).
import { writeOutputFile } from '../cli/output-file.js';
import { IoError, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { reportSkipped, runRecordLoop, type Emitted, type LoopEnd, type ReadStats, type RecordLoop } from '../jsonl/index.js';
import { buildIndex, type BenchOptions } from './bench.js';
import { fileChecksum, readIndexFile, shareIndex } from './index-file.js';
import type { NgramIndex } from './ngram-index.js';
import { WorkerPool } from '../cli/worker-pool.js';
import { BlockScanner, blockHandler, owned, resolveKept, type BlockResult, type BlockTask, type ScanBlock, type ScanWorkerData } from './block-scan.js';
import { NativeBatchPool } from './native-pool.js';
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
  const index = await loadIndex(o);
  const scan: ScanOptions = { textField: o.textField, mode: o.mode, skipInvalid: o.skipInvalid, evidence: Boolean(o.removed) };
  const counts = newCounts();
  const hits = index.benchmarks.map(() => 0);
  const loop = { label: 'decontam', inputs: o.inputs, output: o.output, side: o.removed };
  // One block's result, decided: counted, and its kept lines written (`view`: this thread's view of the block
  // a worker answered in ranges of).
  const emit = (r: BlockResult, stats: ReadStats, view?: Uint8Array): Emitted => {
    for (const k of Object.keys(counts) as (keyof ScanCounts)[]) counts[k] += r.counts[k];
    r.hits.forEach((v, i) => (hits[i] += v));
    stats.skipped += r.skipped;
    stats.records += r.counts.docs_in;
    // Evidence lines are joined by "\n"; the writer adds the last newline.
    return { out: { bytes: resolveKept(r, r.block ?? view), lines: r.keptLines }, side: r.removed ? [r.removed] : undefined };
  };
  const scanner = new BlockScanner(index, scan);
  let stats: ReadStats;
  if (scanner.isNative) {
    // -j N: this thread and N - 1 threads of the addon scan the blocks (native-pool.ts).
    const pool = new NativeBatchPool(scanner, o.jobs);
    ({ stats } = await runRecordLoop<ScanBlock, BlockResult>({ ...loop, batches: (st) => readBlocks(o.inputs, st, pool.window), pool, emit: (r, st) => emit(r, st) }));
  } else ({ stats } = await scanOnWorkers(o, index, scan, loop, emit));

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

/**
 * The JavaScript scan (no addon, or segment mode), -j N: this thread and N - 1 worker threads (cli/worker-pool),
 * each with its own BlockScanner, the index shared between them.
 */
async function scanOnWorkers(
  o: DecontamOptions,
  loaded: NgramIndex,
  scan: ScanOptions,
  loop: Pick<RecordLoop<BlockTask, BlockResult>, 'label' | 'inputs' | 'output' | 'side'>,
  emit: (r: BlockResult, stats: ReadStats, view?: Uint8Array) => Emitted,
): Promise<LoopEnd> {
  const workers = o.jobs > 1 ? o.jobs - 1 : 0;
  // Worker threads map a mapped index file themselves (the page cache holds one copy); any other index is
  // copied into shared memory once, and the main thread then views that copy too.
  const indexFile = workers && o.index && loaded.file && !loaded.backing ? o.index : undefined;
  const index = workers && !indexFile ? shareIndex(loaded) : loaded;
  // This thread's views of the mapped blocks, for the tasks it runs itself.
  const localViews = new WeakMap<BlockTask, Uint8Array>();
  // Blocks of lines go to the workers (or, with -j 1, to a scanner on this thread) and come back in order.
  const pool = new WorkerPool<BlockTask, BlockResult>({
    script: new URL('./worker.js', import.meta.url),
    workerData: workers ? ({ index: indexFile ? { path: indexFile, crc: fileChecksum(index)! } : index.backing!, opts: scan } satisfies ScanWorkerData) : undefined,
    workers,
    local: () => blockHandler(index, scan, (t) => localViews.get(t)),
    localShare: true,
    transfer: (t) => (t.buf ? [t.buf.buffer as ArrayBuffer] : []),
  });
  // This thread's views of the mapped blocks (undefined for those sent as bytes), in task order: results come
  // back in that order, and the runs of lines kept as they are are written from these views. Holding them also
  // keeps each mapping alive until its answer is in (a worker reads it in place), failures included.
  const views: (Uint8Array | undefined)[] = [];
  return runRecordLoop<BlockTask, BlockResult>({
    ...loop,
    async *batches(stats) {
      for await (const b of readBlocks(o.inputs, stats, pool.window)) {
        if (!workers) yield { file: b.file, firstLine: b.firstLine, buf: b.buf };
        else if (b.address !== undefined) {
          views.push(b.buf);
          const task: BlockTask = { file: b.file, firstLine: b.firstLine, mapped: { address: b.address, length: b.buf.length } };
          localViews.set(task, b.buf);
          yield task;
        } else {
          views.push(undefined);
          yield { file: b.file, firstLine: b.firstLine, buf: owned(b.buf) };
        }
      }
    },
    pool,
    emit: (r, stats) => emit(r, stats, workers ? views.shift() : undefined),
  });
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
