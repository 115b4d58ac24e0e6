// mine domains and mine expand: per-domain fractions and flags, prefix statistics inside flagged
// domains, the annotation file, mergeable shard counts, and pattern matching for seed expansion.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decide, parsePatterns } from '../../src/mine/domains/patterns.js';
import { runCli, lines } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mp-domains-'));
const pool: object[] = [];
const collected: object[] = [];
const add = (url: string, n: number, kept: number) => {
  for (let i = 0; i < n; i++) {
    const d = { id: `${url}#${i}`, url: `${url}/${i}`, text: 'x' };
    pool.push(d);
    if (i < kept) collected.push(d);
  }
};
add('https://mathoverflow.net/questions', 50, 46);
add('https://mathoverflow.net/users', 20, 0);
add('https://www.news.example.org/world', 100, 5);
add('https://blog.example.org/posts', 10, 4);
const poolFile = join(dir, 'pool.jsonl');
const selFile = join(dir, 'selected.jsonl');
writeFileSync(poolFile, pool.map((d) => JSON.stringify(d)).join('\n') + '\n');
writeFileSync(selFile, collected.map((d) => JSON.stringify(d)).join('\n') + '\n');
const rows = (s: string) => lines(s).map((l) => JSON.parse(l) as Record<string, unknown>);

t.test('domains: fractions, sorted, flagged above --min-fraction; prefixes inside flagged domains', async (t) => {
  const res = await runCli(['mine', 'domains', '-c', selFile, '--prefixes', join(dir, 'prefixes.jsonl'), '--patterns', join(dir, 'patterns.txt'), '--', poolFile]);
  t.equal(res.code, 0, res.stderr);
  t.same(rows(res.stdout), [
    { domain: 'mathoverflow.net', pages: 70, collected: 46, fraction: 0.657143, math: true },
    { domain: 'example.org', pages: 110, collected: 9, fraction: 0.081818, math: false },
  ]);
  t.same(rows(readFileSync(join(dir, 'prefixes.jsonl'), 'utf8')), [
    { domain: 'mathoverflow.net', prefix: 'mathoverflow.net/questions', pages: 50, collected: 46, fraction: 0.92 },
    { domain: 'mathoverflow.net', prefix: 'mathoverflow.net/users', pages: 20, collected: 0, fraction: 0 },
  ]);
  const pat = readFileSync(join(dir, 'patterns.txt'), 'utf8');
  t.match(pat, /^mathoverflow\.net\/questions {2}# 92\.0% of 50$/m);
  t.match(pat, /^# mathoverflow\.net\/users/m);
});

t.test('domains: shard counts summed equal the whole', async (t) => {
  const half = Math.floor(pool.length / 2);
  const parts = [pool.slice(0, half), pool.slice(half)].map((p, i) => {
    const f = join(dir, `pool${i}.jsonl`);
    writeFileSync(f, p.map((d) => JSON.stringify(d)).join('\n') + '\n');
    return f;
  });
  for (const i of [0, 1]) t.equal((await runCli(['mine', 'domains', '-q', '-c', selFile, '--counts', join(dir, `c${i}.jsonl`), '--shard', `${i}/2`, '--', ...parts])).code, 0);
  const merged = await runCli(['mine', 'domains', '-q', '--from-counts', '--min-fraction', '0.05', join(dir, 'c0.jsonl'), join(dir, 'c1.jsonl')]);
  const whole = await runCli(['mine', 'domains', '-q', '--min-fraction', '0.05', '-c', selFile, '--', poolFile]);
  t.equal(merged.stdout, whole.stdout);
  t.match(whole.stdout, /"example.org".*"math":true/, '--min-fraction 0.05 flags example.org');
});

t.test('patterns: most specific wins, whole segments, subdomains, comments', async (t) => {
  const p = parsePatterns('# notes\nmathoverflow.net  # 92%\n-mathoverflow.net/users\n+example.org/posts/\n', 'p.txt');
  t.equal(decide(p, 'mathoverflow.net', '/questions/1')?.accept, true);
  t.equal(decide(p, 'mathoverflow.net', '/users/7')?.accept, false);
  t.equal(decide(p, 'blog.example.org', '/posts/3')?.accept, true);
  t.equal(decide(p, 'example.org', '/postsx'), undefined);
  t.throws(() => parsePatterns('two words here\n', 'p.txt'), /p\.txt:1/);
});

t.test('expand: uncollected pool pages under accepted prefixes, labeled', async (t) => {
  const res = await runCli(['mine', 'expand', '-p', join(dir, 'patterns.txt'), '-c', selFile, '--', poolFile]);
  t.equal(res.code, 0, res.stderr);
  const got = rows(res.stdout);
  t.equal(got.length, 4, 'the 4 uncollected /questions pages');
  t.ok(got.every((d) => String(d.url).startsWith('https://mathoverflow.net/questions/') && d.label === 'math'));
  t.match(res.stderr, /4 uncollected pages under 1 accepted patterns \(46 under them were already collected\)/);
});
