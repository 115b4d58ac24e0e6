// The last reading of the input: write the lines of kept documents byte for byte, and (with --clusters)
// one JSON line per removed document naming the document its cluster kept.
import { withOptionalWriter, withWriter, type JsonlWriter } from '../../jsonl/index.js';
import { docLines } from './doc-lines.js';
import { reasonOf, type Reason } from './clusters.js';
import type { DocTable } from './table.js';

interface Where {
  id: unknown;
  url: unknown;
  file: string;
  line: number;
}

export interface OutputOptions {
  output?: string;
  clusters?: string;
  urlField: string;
  /** Input names as the user gave them ("-" for stdin), for the report. */
  names: string[];
  /** Sharded filter: why each document went (default: from the table), and where the kept ones of other shards are. */
  reason?: (d: number) => Reason | undefined;
  away?: Map<number, { file: string; line: number }>;
}

export async function writeKept(inputs: string[], t: DocTable, keptOf: Int32Array, o: OutputOptions): Promise<void> {
  // Documents the report needs to name: the removed ones and the ones their clusters kept.
  const named = new Uint8Array(t.n);
  if (o.clusters) {
    for (let d = 0; d < t.n; d++) {
      if (keptOf[d] === d) continue;
      named[d] = 1;
      if (keptOf[d]! >= 0 && keptOf[d]! < t.n) named[keptOf[d]!] = 1;
    }
  }
  const where = new Map<number, Where>();
  await withWriter(o.output, async (out: JsonlWriter) => {
    for await (const batch of docLines(inputs, t)) {
      for (const { d, text } of batch) {
        if (named[d]) {
          const v = JSON.parse(text) as Record<string, unknown>;
          where.set(d, { id: v.id ?? null, url: v[o.urlField] ?? null, file: o.names[t.file[d]!] ?? '', line: t.line[d]! });
        }
        if (keptOf[d] === d) {
          const p = out.write(text);
          if (p) await p;
        }
      }
    }
  });
  await withOptionalWriter(o.clusters, async (rep) => {
    if (!rep) return;
    for (let d = 0; d < t.n; d++) {
      const reason = o.reason ? o.reason(d) : reasonOf(t, keptOf, d);
      if (!reason) continue;
      const k = keptOf[d]!;
      const kept = k >= 0 ? where.get(k)! : (o.away?.get(d) ?? null);
      const p = rep.writeJson({ ...where.get(d)!, reason, kept });
      if (p) await p;
    }
  });
}
