// `mathpipe mine`: sources -> WARC records -> documents, written as JSONL in input order.
// One input at a time streams straight to the output. With several concurrent inputs (--jobs) or --resume,
// each input is written to its own part file with a done marker, and parts are appended to the output in
// input order, so the result is byte-identical to a sequential, uninterrupted run.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeOutputFile } from '../cli/output-file.js';
import { trackTemp, untrackTemp } from '../cli/cleanup.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, IoError, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { startProgress } from '../cli/progress.js';
import { JsonlWriter, readLineBatches, totalSize, withOptionalWriter, withWriter } from '../jsonl/index.js';
import { closeAgent, httpAgent, type RetryPolicy } from './fetch.js';
import { ccIndexSources, isPathList, parseRange, pathListSources, sourceFor, type Source } from './inputs.js';
import { sourceBytes, type HttpSetup } from './bytes.js';
import { readWarc } from './warc.js';
import { outcomeOf, type DocOptions, type Outcome } from './document.js';
import { ExtractPool } from './pool.js';
import type { WarcRecord } from './warc.js';
import { addCounts, newCounts, summary, type MineCounts } from './counts.js';

export interface MineOptions {
  inputs: string[];
  output?: string;
  keepGoing: boolean;
  prefilter: 'math' | 'none';
  minChars: number;
  jobs?: number;
  resume: boolean;
  baseUrl: string;
  range?: string;
  ccIndex?: string;
  retry: RetryPolicy;
  /** --errors FILE: bad records as JSONL (needs --keep-going). */
  errors?: string;
  /** Extraction threads; 1 extracts on the main thread. */
  threads: number;
  /** Largest record (decoded), in bytes: larger ones are bad records. */
  maxRecordSize: number;
}

/** Per-record problems are shown one by one up to this many, then only counted. */
const SHOW_ERRORS = 20;

type Sink = (line: string) => Promise<void> | undefined;

export async function resolveSources(o: MineOptions, http: HttpSetup): Promise<Source[]> {
  const sources: Source[] = [];
  const inputs = o.inputs.length || o.ccIndex ? o.inputs : ['-'];
  for (const name of inputs) {
    if (isPathList(name)) {
      const list = sourceFor(name);
      sources.push(...(await pathListSources(name, sourceBytes(list, http, () => {}), o.baseUrl)));
    } else {
      sources.push(sourceFor(name));
    }
  }
  if (o.range !== undefined) {
    const range = parseRange(o.range);
    if (sources.length !== 1 || o.ccIndex) throw new UsageError('--range applies to exactly one WARC input');
    if (sources[0]!.kind === 'stdin') throw new UsageError('--range needs a file or URL, not stdin');
    sources[0] = sourceFor(sources[0]!.name, range);
  }
  if (o.ccIndex) sources.push(...(await ccIndexSources(o.ccIndex, o.baseUrl)));
  if (sources.filter((s) => s.kind === 'stdin').length > 1) throw new UsageError('stdin ("-") can be read only once');
  return sources;
}

class ErrorReporter {
  shown = 0;
  constructor(
    private readonly keepGoing: boolean,
    /** --errors: every skipped record as JSONL, for re-fetching or inspection. */
    private readonly side: JsonlWriter | undefined,
  ) {}

  async record(src: Source, offset: number, msg: string, id: string | undefined, c: MineCounts): Promise<void> {
    const where = `${src.name}@${offset}${id ? ` (${id})` : ''}`;
    if (!this.keepGoing) throw new DataError(where, `${msg} (--keep-going skips bad records)`);
    c.recordErrors++;
    if (this.shown++ < SHOW_ERRORS) warn(`${where}: ${msg}; skipped`);
    else if (this.shown === SHOW_ERRORS + 1) warn('more bad records: counting them without showing each');
    await this.side?.writeJson({ file: src.name, offset, ...(id ? { id } : {}), error: msg });
  }

  /** An input that could not be read at all (only reached with --keep-going). */
  async input(src: Source, e: IoError, c: MineCounts): Promise<void> {
    c.failedInputs++;
    warn(`${e.message}; input skipped`);
    await this.side?.writeJson({ file: src.name, error: e.message });
  }
}

/** Records per batch sent to a worker, and the block bytes after which a batch is sent early. */
const BATCH_RECORDS = 64;
const BATCH_BYTES = 1 << 20;

type Pending = { batch: Promise<Outcome[]> } | { error: string; offset: number; id?: string };

async function mineSource(src: Source, sink: Sink, c: MineCounts, ctx: MineContext): Promise<void> {
  const bytes = sourceBytes(src, ctx.http, (n) => (c.bytes += n));
  const apply = async (o: Outcome, offset: number) => {
    if ('line' in o) {
      c.docs++;
      const p = sink(o.line);
      if (p) await p;
    } else if ('skip' in o) c.skipped[o.skip]++;
    else await ctx.errs.record(src, offset, o.problem, o.id, c);
  };
  // Batches go to the workers; results (and framing errors, in their place) are applied in input order.
  const queue: { pending: Pending; offsets: number[] }[] = [];
  let batch: WarcRecord[] = [];
  let batchBytes = 0;
  const send = () => {
    if (!batch.length) return;
    const p = ctx.pool!.run(src.name, batch);
    p.catch(() => {}); // observed when drained; avoids an unhandled rejection while queued
    queue.push({ pending: { batch: p }, offsets: batch.map((r) => r.offset) });
    batch = [];
    batchBytes = 0;
  };
  const drainOne = async () => {
    const head = queue.shift()!;
    if ('error' in head.pending) {
      await ctx.errs.record(src, head.pending.offset, head.pending.error, head.pending.id, c);
      return;
    }
    const outcomes = await head.pending.batch;
    for (let i = 0; i < outcomes.length; i++) await apply(outcomes[i]!, head.offsets[i]!);
  };
  for await (const item of readWarc(bytes, src.range?.offset ?? 0, ctx.docOpts.maxRecordSize)) {
    const pool = ctx.poolAfter(++ctx.seen);
    if (!pool) {
      // Small inputs never pay for starting workers: the first records are extracted here.
      if ('error' in item) await ctx.errs.record(src, item.offset, item.error, item.id, c);
      else {
        c.records++;
        await apply(outcomeOf(item, src.name, ctx.docOpts), item.offset);
      }
      continue;
    }
    if ('error' in item) {
      send();
      queue.push({ pending: item.id ? { error: item.error, offset: item.offset, id: item.id } : { error: item.error, offset: item.offset }, offsets: [] });
    } else {
      c.records++;
      batch.push(item);
      batchBytes += item.block.length;
      if (batch.length >= BATCH_RECORDS || batchBytes >= BATCH_BYTES) send();
    }
    while (queue.length > 2 * pool.size) await drainOne();
  }
  send();
  while (queue.length) await drainOne();
  c.inputs++;
}

/** Records read (all inputs) before extraction moves to worker threads. */
const POOL_AFTER = 200;

interface MineContext {
  http: HttpSetup;
  docOpts: DocOptions;
  errs: ErrorReporter;
  pool: ExtractPool | undefined;
  /** Records (and framing errors) read so far, over all inputs. */
  seen: number;
  /** The worker pool once `seen` records have been read (started then), or undefined: extract inline. */
  poolAfter(seen: number): ExtractPool | undefined;
}

interface StateFiles {
  dir: string;
  part: (i: number) => string;
  done: (i: number) => string;
}

function stateFiles(dir: string): StateFiles {
  const n = (i: number) => String(i).padStart(6, '0');
  return { dir, part: (i) => join(dir, `${n(i)}.jsonl`), done: (i) => join(dir, `${n(i)}.done.json`) };
}

/** The state directory of a resumable run; refuses one made for a different input list or settings. */
function openState(dir: string, fingerprint: string): StateFiles {
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    if (readFileSync(manifest, 'utf8') !== fingerprint) {
      throw new UsageError(`${dir} holds a resumable run with other inputs or settings; remove it to start over`);
    }
  } else {
    mkdirSync(dir, { recursive: true });
    writeOutputFile(manifest, fingerprint);
  }
  return stateFiles(dir);
}

export async function run(o: MineOptions): Promise<void> {
  const t0 = performance.now();
  if (o.resume && (!o.output || o.output === '-')) throw new UsageError('--resume needs -o FILE (its state lives next to the output)');
  let jobs = o.jobs ?? 1;
  const http: HttpSetup = { policy: o.retry, dispatcher: () => httpAgent(Math.max(1, jobs), o.retry.timeoutMs) };
  const docOpts: DocOptions = { prefilterMath: o.prefilter === 'math', minChars: o.minChars, maxRecordSize: o.maxRecordSize };
  if (o.errors && !o.keepGoing) throw new UsageError('--errors lists skipped records: it needs --keep-going');
  const counts = newCounts();
  await withOptionalWriter(o.errors, async (side) => {
    const ctx: MineContext = {
      http,
      docOpts,
      errs: new ErrorReporter(o.keepGoing, side),
      pool: undefined,
      seen: 0,
      poolAfter(seen) {
        if (o.threads > 1 && !this.pool && seen > POOL_AFTER) this.pool = new ExtractPool(o.threads, docOpts);
        return this.pool;
      },
    };
    try {
      const sources = await resolveSources(o, http);
      if (o.jobs === undefined && sources.some((s) => s.kind === 'url')) jobs = 4;
      const local = sources.every((s) => s.kind === 'file' && !s.range);
      const progress = startProgress('mine', () => ({ records: counts.records, bytes: counts.bytes }), local ? totalSize(sources.map((s) => s.name)) : undefined);
      let stateDir: string | undefined;
      try {
        await withWriter(o.output, async (writer) => {
          if (jobs <= 1 && !o.resume) {
            for (const src of sources) {
              try {
                await mineSource(src, (l) => writer.write(l), counts, ctx);
              } catch (e) {
                if (!(e instanceof IoError) || !o.keepGoing) throw e;
                await ctx.errs.input(src, e, counts);
              }
            }
          } else {
            stateDir = await minePool(sources, writer, counts, { ...o, jobs }, ctx);
          }
        });
        // Only a finished output retires the resume state.
        if (stateDir) rmSync(stateDir, { recursive: true, force: true });
      } finally {
        progress.stop();
      }
    } finally {
      await closeAgent();
      await ctx.pool?.close();
    }
  });
  info(summary(counts, (performance.now() - t0) / 1000));
  if (counts.failedInputs) throw new IoError(`${counts.failedInputs} input(s) could not be read; the output holds the others${o.resume ? ' (re-run with --resume to retry them)' : ''}`);
}

async function minePool(
  sources: Source[],
  writer: JsonlWriter,
  counts: MineCounts,
  o: MineOptions & { jobs: number },
  ctx: MineContext,
): Promise<string | undefined> {
  const fingerprint = JSON.stringify({ inputs: sources, prefilter: o.prefilter, minChars: o.minChars, keepGoing: o.keepGoing, maxRecordSize: o.maxRecordSize }, null, 1);
  const st = o.resume ? openState(`${o.output}.mine-state`, fingerprint) : stateFiles(mkdtempSync(join(tmpdir(), 'mathpipe-mine-')));
  // Not resumable: the parts are scratch, removed on every exit path (a closed pipe and Ctrl-C included).
  if (!o.resume) trackTemp(st.dir);
  // Outcome per input: undefined while running, true when its part is ready, false when it failed.
  const ready: (boolean | undefined)[] = new Array(sources.length);
  let next = 0;
  let flushed = 0;
  let failure: unknown;
  let flushing: Promise<void> = Promise.resolve();

  const flush = async () => {
    while (flushed < sources.length && ready[flushed] !== undefined) {
      const i = flushed++;
      if (!ready[i]) continue;
      for await (const batch of readLineBatches([st.part(i)])) {
        for (const l of batch) {
          const p = writer.write(l.text);
          if (p) await p;
        }
      }
      if (!o.resume) rmSync(st.part(i), { force: true });
    }
  };

  const worker = async () => {
    while (failure === undefined && next < sources.length) {
      const i = next++;
      const src = sources[i]!;
      if (o.resume && existsSync(st.done(i))) {
        const c = JSON.parse(readFileSync(st.done(i), 'utf8')) as MineCounts;
        addCounts(counts, { ...c, resumed: 1 });
        ready[i] = true;
      } else {
        const c = newCounts();
        const part = JsonlWriter.open(st.part(i));
        try {
          await mineSource(src, (l) => part.write(l), c, ctx);
          await part.close();
          writeOutputFile(st.done(i), JSON.stringify(c));
          addCounts(counts, c);
          ready[i] = true;
        } catch (e) {
          part.abort();
          if (!(e instanceof IoError) || !o.keepGoing) {
            failure ??= e;
            return;
          }
          addCounts(counts, { ...c, inputs: 0 });
          await ctx.errs.input(src, e, counts);
          ready[i] = false;
        }
      }
      flushing = flushing.then(flush);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.jobs, sources.length) }, worker));
    await flushing;
    if (failure !== undefined) throw failure;
  } finally {
    if (!o.resume) {
      rmSync(st.dir, { recursive: true, force: true });
      untrackTemp(st.dir);
    }
  }
  // A finished resumable run's state is removed by the caller once the output is in place.
  return o.resume && counts.failedInputs === 0 ? st.dir : undefined;
}
