// `mathpipe mine domains`: per-domain pool vs collected statistics and the prefixes of math domains.
import { DataError } from '../../cli/errors.js';
import { info } from '../../cli/log.js';
import { writeOutputFile } from '../../cli/output-file.js';
import { newReadStats, readJsonl, recordWhere, reportSkipped, withOptionalWriter, withWriter } from '../../jsonl/index.js';
import { readCollected, keyOf, type MatchBy } from './collected.js';
import { Counters, type CountRow } from './counters.js';
import { domainRows, patternFile, prefixRows } from './report.js';
import { urlParts } from './url-parts.js';

export interface DomainsOptions {
  inputs: string[];
  collected: string[];
  fromCounts: boolean;
  counts?: string;
  output?: string;
  prefixes?: string;
  patterns?: string;
  minFraction: number;
  minPages: number;
  accept: number;
  depth: number;
  match: MatchBy;
  idField: string;
  urlField: string;
  skipInvalid: boolean;
}

export async function countPool(o: DomainsOptions): Promise<Counters> {
  const c = new Counters();
  const stats = newReadStats();
  if (o.fromCounts) {
    for await (const r of readJsonl(o.inputs, { stats, skipInvalid: o.skipInvalid })) {
      const v = r.value as unknown as CountRow;
      if (typeof v.domain !== 'string' || typeof v.pages !== 'number' || typeof v.collected !== 'number') throw new DataError(recordWhere(r), 'not a counts row ({"domain", "prefix"?, "pages", "collected"}) from mine domains --counts');
      c.addRow(v);
    }
    reportSkipped(stats);
    return c;
  }
  const collected = await readCollected(o.collected, o.match, o.idField, o.urlField);
  let noUrl = 0;
  for await (const r of readJsonl(o.inputs, { stats, skipInvalid: o.skipInvalid })) {
    const url = r.value[o.urlField];
    const parts = typeof url === 'string' ? urlParts(url, o.depth, r.value.domain) : undefined;
    if (!parts) {
      noUrl++;
      continue;
    }
    const k = keyOf(r.value, o.match, o.idField, o.urlField);
    c.add(parts.domain, parts.prefix, 1, k !== undefined && collected.has(k) ? 1 : 0);
  }
  reportSkipped(stats);
  if (noUrl) info(`${noUrl} pool documents without an http(s) URL were not counted`);
  return c;
}

export async function runDomains(o: DomainsOptions): Promise<void> {
  const c = await countPool(o);
  await withOptionalWriter(o.counts, async (w) => {
    if (!w) return;
    for (const row of c.rows()) {
      const p = w.writeJson(row);
      if (p) await p;
    }
  });
  if (o.counts && !o.output && !o.prefixes && !o.patterns) return;
  const domains = domainRows(c, o);
  const prefixes = prefixRows(c, domains);
  await withWriter(o.output, async (w) => {
    for (const d of domains) {
      const p = w.writeJson(d);
      if (p) await p;
    }
  });
  await withOptionalWriter(o.prefixes, async (w) => {
    for (const p of prefixes) {
      const q = w?.writeJson(p);
      if (q) await q;
    }
  });
  if (o.patterns) writeOutputFile(o.patterns, patternFile(domains, prefixes, o.accept));
  const flagged = domains.filter((d) => d.math).length;
  info(`${domains.length} domains, ${flagged} with more than ${o.minFraction * 100}% of their pages collected`);
}
