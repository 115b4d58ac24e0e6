// The one loop of the commands that filter or annotate a stream of records (grade, decontam, classify
// predict), in the spirit of datatrove's base filter: the command supplies its batches, the pool that turns
// them into results in input order, and what each result writes; this loop owns the rest, so the three
// cannot drift apart. It opens the output and the optional side output (--removed, --disagreements) and
// removes both if the run fails, draws the progress line from the read counts, writes each result before
// taking the next (so memory stays flat whatever the input size), counts the lines written, and closes the
// pool and the progress line however the run ends.
import { startProgress, type Progress } from '../cli/progress.js';
import { newReadStats, type ReadStats } from './read.js';
import { totalSize } from './input.js';
import { withOptionalWriter, withWriter, type JsonlWriter } from './write.js';

/** Results of tasks in task order, and its end. A WorkerPool is one; grade's checks are another. */
export interface OrderedPool<T, R> {
  map(tasks: AsyncIterable<T>): AsyncIterable<R>;
  close(): Promise<void>;
}

/** What one result writes, as the command decided. */
export interface Emitted {
  /**
   * Output lines without their newline, or whole lines already encoded (each ending in "\n", in one buffer or
   * in pieces written one after another) and how many.
   */
  out?: readonly string[] | { bytes: Uint8Array | readonly Uint8Array[]; lines: number };
  /** Side-output lines without their newline; dropped when no side output was asked for. */
  side?: readonly string[];
}

export interface RecordLoop<T, R> {
  /** The progress line's label: the command's name. */
  label: string;
  inputs: string[];
  /** The output (-o); undefined or "-" is stdout. */
  output?: string;
  /** The side output for what was dropped or disputed; undefined: none. */
  side?: string;
  /** The command's units of work, read from `inputs`; reading counts bytes, records and skipped lines in `stats`. */
  batches(stats: ReadStats): AsyncIterable<T>;
  pool: OrderedPool<T, R>;
  /** One result, decided: what it writes (and whatever the command counts, in `stats` or its own summary). */
  emit(result: R, stats: ReadStats): Emitted;
}

export interface LoopEnd {
  /** The read counts (the command's summary reports the skipped ones its own way). */
  stats: ReadStats;
  /** Lines written to the output. */
  written: number;
}

export async function runRecordLoop<T, R>(loop: RecordLoop<T, R>): Promise<LoopEnd> {
  const stats = newReadStats();
  let progress: Progress | undefined;
  try {
    progress = startProgress(loop.label, () => ({ records: stats.records, bytes: stats.bytes }), totalSize(loop.inputs));
    const written = await withWriter(loop.output, (out) =>
      withOptionalWriter(loop.side, async (side) => {
        for await (const r of loop.pool.map(loop.batches(stats))) {
          const e = loop.emit(r, stats);
          if (e.out) await writeLines(out, e.out);
          if (side && e.side) await writeLines(side, e.side);
        }
        return out.lines;
      }),
    );
    return { stats, written };
  } finally {
    progress?.stop();
    await loop.pool.close();
  }
}

async function writeLines(w: JsonlWriter, lines: NonNullable<Emitted['out']>): Promise<void> {
  if ('bytes' in lines) {
    const pieces = lines.bytes instanceof Uint8Array ? [lines.bytes] : lines.bytes;
    for (let i = 0; i < pieces.length; i++) {
      const p = w.writeBytes(pieces[i], i === pieces.length - 1 ? lines.lines : 0);
      if (p) await p;
    }
    return;
  }
  for (const line of lines) {
    const p = w.write(line);
    if (p) await p;
  }
}
