// `mathpipe mine`: sources -> WARC records -> documents, written as JSONL in input order.
// One input at a time streams straight to the output. With several concurrent inputs (--jobs) or --resume,
// each input is written to its own part file with a done marker, and parts are appended to the output in
// input order, so the result is byte-identical to a sequential, uninterrupted run.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, IoError, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { startProgress } from '../cli/progress.js';
import { JsonlWriter, readLineBatches, totalSize } from '../jsonl/index.js';
import { closeAgent, httpAgent, type RetryPolicy } from './fetch.js';
import { ccIndexSources, isPathList, parseRange, pathListSources, sourceFor, type Source } from './inputs.js';
import { sourceBytes, type HttpSetup } from './bytes.js';
import { readWarc } from './warc.js';
import { RecordProblem, recordToDoc, serialiseDoc, type DocOptions } from './document.js';
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
  constructor(private readonly keepGoing: boolean) {}

  record(src: Source, offset: number, msg: string, id: string | undefined, c: MineCounts): void {
    const where = `${src.name}@${offset}${id ? ` (${id})` : ''}`;
    if (!this.keepGoing) throw new DataError(where, `${msg} (--keep-going skips bad records)`);
    c.recordErrors++;
    if (this.shown++ < SHOW_ERRORS) warn(`${where}: ${msg}; skipped`);
    else if (this.shown === SHOW_ERRORS + 1) warn('more bad records: counting them without showing each');
  }
}

async function mineSource(src: Source, sink: Sink, c: MineCounts, http: HttpSetup, docOpts: DocOptions, errs: ErrorReporter): Promise<void> {
  const bytes = sourceBytes(src, http, (n) => (c.bytes += n));
  for await (const item of readWarc(bytes, src.range?.offset ?? 0)) {
    if ('error' in item) {
      errs.record(src, item.offset, item.error, item.id, c);
      continue;
    }
    c.records++;
    let r;
    try {
      r = recordToDoc(item, src.name, docOpts);
    } catch (e) {
      if (!(e instanceof RecordProblem)) throw e;
      errs.record(src, item.offset, e.message, item.headers.get('warc-record-id'), c);
      continue;
    }
    if (typeof r === 'string') c.skipped[r]++;
    else {
      c.docs++;
      const p = sink(serialiseDoc(r));
      if (p) await p;
    }
  }
  c.inputs++;
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
    writeFileSync(`${manifest}.tmp`, fingerprint);
    renameSync(`${manifest}.tmp`, manifest);
  }
  return stateFiles(dir);
}

export async function run(o: MineOptions): Promise<void> {
  const t0 = performance.now();
  if (o.resume && (!o.output || o.output === '-')) throw new UsageError('--resume needs -o FILE (its state lives next to the output)');
  let jobs = o.jobs ?? 1;
  const http: HttpSetup = { policy: o.retry, dispatcher: () => httpAgent(Math.max(1, jobs), o.retry.timeoutMs) };
  const docOpts: DocOptions = { prefilterMath: o.prefilter === 'math', minChars: o.minChars };
  const errs = new ErrorReporter(o.keepGoing);
  const counts = newCounts();
  let stateDir: string | undefined;
  try {
    const sources = await resolveSources(o, http);
    if (o.jobs === undefined && sources.some((s) => s.kind === 'url')) jobs = 4;
    const local = sources.every((s) => s.kind === 'file' && !s.range);
    const progress = startProgress('mine', () => ({ records: counts.records, bytes: counts.bytes }), local ? totalSize(sources.map((s) => s.name)) : undefined);
    const writer = JsonlWriter.open(o.output);
    try {
      if (jobs <= 1 && !o.resume) {
        for (const src of sources) {
          try {
            await mineSource(src, (l) => writer.write(l), counts, http, docOpts, errs);
          } catch (e) {
            if (!(e instanceof IoError) || !o.keepGoing) throw e;
            counts.failedInputs++;
            warn(`${e.message}; input skipped`);
          }
        }
      } else {
        stateDir = await minePool(sources, writer, counts, { ...o, jobs }, http, docOpts, errs);
      }
      await writer.close();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    } catch (e) {
      writer.abort();
      throw e;
    } finally {
      progress.stop();
    }
  } finally {
    await closeAgent();
  }
  info(summary(counts, (performance.now() - t0) / 1000));
  if (counts.failedInputs) throw new IoError(`${counts.failedInputs} input(s) could not be read; the output holds the others${o.resume ? ' (re-run with --resume to retry them)' : ''}`);
}

async function minePool(
  sources: Source[],
  writer: JsonlWriter,
  counts: MineCounts,
  o: MineOptions & { jobs: number },
  http: HttpSetup,
  docOpts: DocOptions,
  errs: ErrorReporter,
): Promise<string | undefined> {
  const fingerprint = JSON.stringify({ inputs: sources, prefilter: o.prefilter, minChars: o.minChars, keepGoing: o.keepGoing }, null, 1);
  const st = o.resume ? openState(`${o.output}.mine-state`, fingerprint) : stateFiles(mkdtempSync(join(tmpdir(), 'mathpipe-mine-')));
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
          await mineSource(src, (l) => part.write(l), c, http, docOpts, errs);
          await part.close();
          writeFileSync(`${st.done(i)}.tmp`, JSON.stringify(c));
          renameSync(`${st.done(i)}.tmp`, st.done(i));
          addCounts(counts, c);
          ready[i] = true;
        } catch (e) {
          part.abort();
          if (!(e instanceof IoError) || !o.keepGoing) {
            failure ??= e;
            return;
          }
          addCounts(counts, { ...c, inputs: 0 });
          counts.failedInputs++;
          warn(`${e.message}; input skipped`);
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
    if (!o.resume) rmSync(st.dir, { recursive: true, force: true });
  }
  // A finished resumable run's state is removed by the caller once the output is in place.
  return o.resume && counts.failedInputs === 0 ? st.dir : undefined;
}
