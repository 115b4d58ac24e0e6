// From counts to what the annotator reads: domains sorted by collected fraction with the math-related
// ones flagged (DeepSeekMath: more than 10% of a domain's pages collected), the prefixes inside flagged
// domains, and a pattern file with the prefixes above --accept already accepted, the rest commented out.
import type { Counters } from './counters.js';

export interface DomainRow {
  domain: string;
  pages: number;
  collected: number;
  fraction: number;
  math: boolean;
}

export interface PrefixRow {
  domain: string;
  prefix: string;
  pages: number;
  collected: number;
  fraction: number;
}

export interface ReportOptions {
  minFraction: number;
  minPages: number;
}

const frac = (c: number, p: number) => (p ? Math.round((c / p) * 1e6) / 1e6 : 0);

export function domainRows(c: Counters, o: ReportOptions): DomainRow[] {
  const rows = [...c.domains].map(([domain, d]) => {
    const fraction = frac(d.collected, d.pages);
    return { domain, pages: d.pages, collected: d.collected, fraction, math: fraction > o.minFraction && d.pages >= o.minPages };
  });
  return rows.sort((a, b) => b.fraction - a.fraction || b.pages - a.pages || (a.domain < b.domain ? -1 : 1));
}

export function prefixRows(c: Counters, domains: DomainRow[]): PrefixRow[] {
  const out: PrefixRow[] = [];
  for (const d of domains) {
    if (!d.math) continue;
    const rows = [...(c.prefixes.get(d.domain) ?? [])].map(([prefix, p]) => ({ domain: d.domain, prefix, pages: p.pages, collected: p.collected, fraction: frac(p.collected, p.pages) }));
    out.push(...rows.sort((a, b) => b.fraction - a.fraction || b.pages - a.pages || (a.prefix < b.prefix ? -1 : 1)));
  }
  return out;
}

/** The annotation file `mine expand --patterns` reads: accepted prefixes as lines, the others commented. */
export function patternFile(domains: DomainRow[], prefixes: PrefixRow[], accept: number): string {
  const out = [
    '# URL patterns for seed expansion (mathpipe mine domains). One domain/path-prefix per line is accepted;',
    `# lines starting with "#" are not. Prefixes with at least ${accept * 100}% of their pages collected start accepted.`,
    '# Accept what is math, comment out what is not, "-prefix" excludes a part of an accepted one.',
  ];
  for (const d of domains) {
    if (!d.math) continue;
    out.push('', `# ${d.domain}: ${d.collected} of ${d.pages} pages collected (${(d.fraction * 100).toFixed(1)}%)`);
    for (const p of prefixes) {
      if (p.domain !== d.domain) continue;
      const note = `# ${(p.fraction * 100).toFixed(1)}% of ${p.pages}`;
      out.push(p.fraction >= accept ? `${p.prefix}  ${note}` : `# ${p.prefix}  ${note}`);
    }
  }
  return `${out.join('\n')}\n`;
}
