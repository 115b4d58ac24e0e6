// mine select: top documents by score within a token budget (never over it), stable tie-breaks, the
// manifest's exact counts, and the sharded form (stats -> plan -> filter) choosing what one-shot chooses.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../../fixtures/rng.js';
import { walk } from '../../src/mine/select/cutoff.js';
import { runCli, lines } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mp-select-'));
const r = mulberry32(4);
const docs = Array.from({ length: 300 }, (_, i) => ({
  id: `d${i}`,
  // Coarse scores so that many tie: the stable hash decides among them.
  score: Math.round(r() * 20) / 20,
  text: Array.from({ length: 5 + Math.floor(r() * 60) }, () => 'word').join(' '),
}));
const file = join(dir, 'scored.jsonl');
writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
const words = (d: { text: string }) => d.text.split(' ').length;

t.test('the walk stops at the first document that does not fit', async (t) => {
  const c = walk([{ score: 1, hash: 0, pos: 0, tokens: 5 }, { score: 0.9, hash: 0, pos: 1, tokens: 10 }, { score: 0.8, hash: 0, pos: 2, tokens: 1 }], 12);
  t.equal(c.tokens, 5);
  t.equal(c.documents, 1);
  t.same(c.next, { score: 0.9, tokens: 10 });
});

t.test('one-shot: best scores first, never over the budget, manifest exact, input order kept', async (t) => {
  const man = join(dir, 'm.json');
  const res = await runCli(['mine', 'select', '--budget', '2000', '--whitespace', '--manifest', man, file]);
  t.equal(res.code, 0, res.stderr);
  const kept = lines(res.stdout).map((l) => JSON.parse(l) as (typeof docs)[number]);
  const m = JSON.parse(readFileSync(man, 'utf8')) as { tokens_kept: number; documents_kept: number; cutoff: { score: number } };
  const total = kept.reduce((s, d) => s + words(d), 0);
  t.ok(total <= 2000, `${total} tokens`);
  t.equal(m.tokens_kept, total);
  t.equal(m.documents_kept, kept.length);
  const minKept = Math.min(...kept.map((d) => d.score));
  t.equal(minKept, m.cutoff.score);
  t.notOk(docs.some((d) => d.score > minKept && !kept.find((k) => k.id === d.id)), 'every better-scored document is kept');
  t.same(kept.map((d) => Number(d.id.slice(1))), kept.map((d) => Number(d.id.slice(1))).sort((a, b) => a - b), 'input order');
  const again = await runCli(['mine', 'select', '-q', '--budget', '2000', '--whitespace'], { input: readFileSync(file) });
  t.equal(again.stdout, res.stdout, 'the same from stdin');
});

t.test('tokenizer counts (cl100k_base), the same for any thread count; a budget of everything', async (t) => {
  const res = await runCli(['mine', 'select', '-q', '--budget', '1e9', file]);
  t.equal(lines(res.stdout).length, 300);
  const m1 = join(dir, 'j1.json');
  const m3 = join(dir, 'j3.json');
  const one = await runCli(['mine', 'select', '-q', '-j', '1', '--budget', '3000', '--manifest', m1, file]);
  const three = await runCli(['mine', 'select', '-q', '-j', '3', '--budget', '3000', '--manifest', m3, file]);
  t.equal(three.stdout, one.stdout);
  t.same(JSON.parse(readFileSync(m3, 'utf8')), JSON.parse(readFileSync(m1, 'utf8')));
  const small = await runCli(['mine', 'select', '--budget', '0', file]);
  t.equal(small.stdout, '');
});

t.test('sharded: stats -> plan -> filter equals one-shot', async (t) => {
  const parts = [0, 1, 2].map((i) => join(dir, `p${i}.jsonl`));
  parts.forEach((p, i) => writeFileSync(p, docs.slice(i * 100, i * 100 + 100).map((d) => JSON.stringify(d)).join('\n') + '\n'));
  const st = [0, 1].map((i) => join(dir, `${i}.stats`));
  for (const i of [0, 1]) t.equal((await runCli(['mine', 'select', 'stats', '-q', '--whitespace', '--shard', `${i}/2`, '-o', st[i]!, ...parts])).code, 0);
  const plan = join(dir, 'plan.json');
  const p = await runCli(['mine', 'select', 'plan', '-q', '--budget', '2000', '-o', plan, ...st]);
  t.equal(p.code, 0, p.stderr);
  let out = '';
  for (const i of [0, 1]) out += (await runCli(['mine', 'select', 'filter', '-q', '--plan', plan, '--shard', `${i}/2`, ...parts])).stdout;
  const oneMan = join(dir, 'one.json');
  const one = await runCli(['mine', 'select', '-q', '--budget', '2000', '--whitespace', '--manifest', oneMan, ...parts]);
  t.equal(out, one.stdout);
  const a = JSON.parse(readFileSync(plan, 'utf8')) as Record<string, unknown>;
  const b = JSON.parse(readFileSync(oneMan, 'utf8')) as Record<string, unknown>;
  for (const k of ['tokens_kept', 'documents_kept', 'documents', 'tokens', 'cutoff', 'next_excluded', 'histogram']) t.same(a[k], b[k], k);
  t.ok(out.length > 0);
});

t.test('a document without a score: file and line, exit 65', async (t) => {
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"id":"a","score":0.5,"text":"x"}\n{"id":"b","text":"y"}\n');
  const res = await runCli(['mine', 'select', '--budget', '10', bad]);
  t.equal(res.code, 65);
  t.match(res.stderr, /bad\.jsonl:2 \(id b\): missing or non-numeric field "score"/);
});
