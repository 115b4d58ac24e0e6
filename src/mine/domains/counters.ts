// Pages and collected pages per domain and per URL prefix. Mergeable: the rows a shard writes with
// --counts are summed by a later `--from-counts` run, so the statistics of a crawl too big for one
// machine are the sum of its shards'.

export interface CountRow {
  domain: string;
  /** Absent on a domain's own row. */
  prefix?: string;
  pages: number;
  collected: number;
}

export class Counters {
  readonly domains = new Map<string, { pages: number; collected: number }>();
  readonly prefixes = new Map<string, Map<string, { pages: number; collected: number }>>();

  add(domain: string, prefix: string, pages: number, collected: number, withDomain = true): void {
    if (withDomain) {
      const d = this.domains.get(domain) ?? { pages: 0, collected: 0 };
      d.pages += pages;
      d.collected += collected;
      this.domains.set(domain, d);
    }
    let m = this.prefixes.get(domain);
    if (!m) this.prefixes.set(domain, (m = new Map()));
    const p = m.get(prefix) ?? { pages: 0, collected: 0 };
    p.pages += pages;
    p.collected += collected;
    m.set(prefix, p);
  }

  /** A row from a --counts file. */
  addRow(r: CountRow): void {
    if (r.prefix === undefined) {
      const d = this.domains.get(r.domain) ?? { pages: 0, collected: 0 };
      d.pages += r.pages;
      d.collected += r.collected;
      this.domains.set(r.domain, d);
    } else this.add(r.domain, r.prefix, r.pages, r.collected, false);
  }

  *rows(): Generator<CountRow> {
    for (const [domain, d] of [...this.domains].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      yield { domain, pages: d.pages, collected: d.collected };
      for (const [prefix, p] of [...(this.prefixes.get(domain) ?? [])].sort((a, b) => (a[0] < b[0] ? -1 : 1))) yield { domain, prefix, pages: p.pages, collected: p.collected };
    }
  }
}
