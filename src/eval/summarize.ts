// `eval summarize` and `eval plot`: metrics from per-question JSONL, and the pass@K / maj@K figure.
import { readFileSync } from 'node:fs';
import { writeOutputFile } from '../cli/output-file.js';
import { DataError, IoError, UsageError } from '../cli/errors.js';
import { info } from '../cli/log.js';
import { integer } from '../cli/options.js';
import { newReadStats, readJsonl, recordWhere, reportSkipped, type Json } from '../jsonl/index.js';
import { defaultKs, formatTable, summarize, type SampleResult } from './metrics.js';
import { plotSvg, type Series } from './plot.js';

export async function summarizeFiles(paths: string[], ks: number[] | undefined, summaryPath: string | undefined, seed: number, skipInvalid = false): Promise<void> {
  for (const k of ks ?? []) {
    // -k takes every following word, so "-k 1 4 out.jsonl" reads the file name as a K (NaN).
    if (Number.isNaN(k)) throw new UsageError('--k must be an integer >= 1 (got NaN); -k takes all following words: put input files first or end the list with --');
    integer(k, '--k', 1);
  }
  const rs: SampleResult[] = [];
  const stats = newReadStats();
  for await (const rec of readJsonl(paths, { skipInvalid, stats })) {
    const v = rec.value;
    const correct = v.correct;
    const arr = Array.isArray(correct) ? correct : [correct];
    if (!arr.length || !arr.every((x) => typeof x === 'boolean')) {
      // A record without verdicts is a bad line like any other: skipped and counted with --skip-invalid.
      if (!skipInvalid) throw new DataError(recordWhere(rec), 'field "correct" must be a bool or a non-empty array of bools');
      stats.skipped++;
      continue;
    }
    const ex = Array.isArray(v.extracted) ? v.extracted : [v.extracted ?? null];
    const str = (x: Json | undefined) => (typeof x === 'string' || typeof x === 'number' ? String(x) : undefined);
    // Vote groups stored by `eval run` (the checker pool's equivalence) are used as they are.
    const vg = v.vote_groups;
    const groups = Array.isArray(vg) && vg.length === arr.length && vg.every((x) => x === null || Number.isInteger(x)) ? (vg as (number | null)[]) : undefined;
    rs.push({
      id: str(v.id) ?? String(rs.length),
      subject: str(v.subject),
      level: str(v.level),
      extracted: arr.map((_, k) => (typeof ex[k] === 'string' ? (ex[k] as string) : null)),
      correct: arr as boolean[],
      ...(groups ? { groups } : {}),
    });
  }
  reportSkipped(stats);
  if (!rs.length) throw new UsageError('no records to summarize');
  const nMin = Math.min(...rs.map((r) => r.correct.length));
  const kList = ks ?? defaultKs(nMin);
  const bad = kList.find((k) => k > nMin);
  if (bad !== undefined) throw new UsageError(`--k ${bad} exceeds the samples per question (${nMin})`);
  const s = summarize(rs, kList, seed);
  const json = JSON.stringify(s, null, 2) + '\n';
  if (summaryPath) writeOutputFile(summaryPath, json);
  else process.stdout.write(json);
  info(`\n${formatTable(s, 'all')}`);
}

export async function plotFiles(specs: string[], output: string | undefined, title: string): Promise<void> {
  const series: Series[] = specs.map((spec) => {
    const eq = spec.indexOf('=');
    const [label, path] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [spec.replace(/^.*\//, '').replace(/\.json$/, ''), spec];
    let v: { pass_at_k?: Record<string, number>; maj_at_k?: Record<string, number>; model?: string };
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      // A file that cannot be read is an I/O failure (74), as for every JSONL input; bad JSON is bad data.
      const err = e as NodeJS.ErrnoException;
      throw new IoError(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`);
    }
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new DataError(path, `cannot read summary JSON: ${(e as Error).message}`);
    }
    if (!v.pass_at_k || !v.maj_at_k) throw new DataError(path, 'not a summary (no pass_at_k / maj_at_k)');
    return { label, summary: { pass_at_k: v.pass_at_k, maj_at_k: v.maj_at_k } };
  });
  const svg = plotSvg(series, title);
  if (output && output !== '-') writeOutputFile(output, svg);
  else process.stdout.write(svg);
}
