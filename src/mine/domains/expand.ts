// `mathpipe mine expand`: the seed expansion step. Pool pages under accepted URL patterns that the
// collected set does not already hold become positives for the next iteration's classifier.
import { readFileSync } from 'node:fs';
import { IoError, systemReason } from '../../cli/errors.js';
import { info } from '../../cli/log.js';
import { newReadStats, readJsonl, reportSkipped, withWriter } from '../../jsonl/index.js';
import { keyOf, readCollected, type MatchBy } from './collected.js';
import { decide, parsePatterns } from './patterns.js';
import { urlParts } from './url-parts.js';

export interface ExpandOptions {
  inputs: string[];
  patterns: string;
  collected: string[];
  output?: string;
  label?: string;
  labelField: string;
  match: MatchBy;
  idField: string;
  urlField: string;
  skipInvalid: boolean;
}

export async function runExpand(o: ExpandOptions): Promise<{ added: number; perPattern: Record<string, number> }> {
  let text: string;
  try {
    text = readFileSync(o.patterns, 'utf8');
  } catch (e) {
    throw new IoError(`cannot read ${o.patterns}: ${systemReason(e as Error)}`);
  }
  const patterns = parsePatterns(text, o.patterns);
  const collected = await readCollected(o.collected, o.match, o.idField, o.urlField);
  const perPattern: Record<string, number> = {};
  let added = 0;
  let already = 0;
  const stats = newReadStats();
  await withWriter(o.output, async (w) => {
    for await (const r of readJsonl(o.inputs, { stats, skipInvalid: o.skipInvalid })) {
      const url = r.value[o.urlField];
      const parts = typeof url === 'string' ? urlParts(url, 1) : undefined;
      const p = parts && decide(patterns, parts.host, parts.path);
      if (!p?.accept) continue;
      const k = keyOf(r.value, o.match, o.idField, o.urlField);
      if (k !== undefined && collected.has(k)) {
        already++;
        continue;
      }
      perPattern[p.text] = (perPattern[p.text] ?? 0) + 1;
      added++;
      const q = o.label ? w.writeRecord(r, { [o.labelField]: o.label }) : w.writeRecord(r);
      if (q) await q;
    }
  });
  reportSkipped(stats);
  info(`${added} uncollected pages under ${patterns.filter((p) => p.accept).length} accepted patterns (${already} under them were already collected)`);
  return { added, perPattern };
}
