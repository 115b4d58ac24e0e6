// The recall loop on the site fixtures (fixtures/mine/sites.ts): round 2 recalls math pages round 1
// missed, including a site no seed came from, and the loop converges before --max-iterations; a
// stopped loop resumes without redoing finished steps.
import t from 'tap';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sitesWarc } from '../../fixtures/mine/warc-gen.js';
import { runCli, lines } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mp-iterate-'));
const crawl = sitesWarc(1);
writeFileSync(join(dir, 'crawl.warc.gz'), crawl.bytes);
writeFileSync(join(dir, 'seeds.jsonl'), crawl.seeds.map((s) => JSON.stringify(s)).join('\n') + '\n');
const kind = new Map(crawl.pages.map((p) => [p.url, p.kind]));
const pool = join(dir, 'pool.jsonl');
const loop = join(dir, 'loop');

const selected = (k: number) =>
  lines(readFileSync(join(loop, `round-0${k}`, 'selected.jsonl'), 'utf8')).map((l) => JSON.parse(l) as { id: string; url: string });
const args = (max: number) => ['mine', 'iterate', '-d', loop, '--seeds', join(dir, 'seeds.jsonl'), '--max-iterations', String(max), '-b', '46300', '--whitespace', '--negatives', '300', '--train-args=--dim 16 --lr 0.5 --epoch 10 --thread 1', '--', pool];

t.test('mine the crawl', async (t) => {
  const res = await runCli(['mine', '-q', '-o', pool, join(dir, 'crawl.warc.gz')]);
  t.equal(res.code, 0, res.stderr);
});

t.test('round 1, then resume: round 2 recalls math round 1 missed; the loop converges', async (t) => {
  const first = await runCli(args(1), { timeoutMs: 300_000 });
  t.equal(first.code, 0, first.stderr);
  t.match(first.stderr, /stopped after 1 rounds/);
  const model1 = statSync(join(loop, 'round-01', 'model.bin')).mtimeMs;
  const res = await runCli(args(6), { timeoutMs: 300_000 });
  t.equal(res.code, 0, res.stderr);
  t.equal(statSync(join(loop, 'round-01', 'model.bin')).mtimeMs, model1, 'round 1 was not redone');
  const report = lines(res.stdout).map((l) => JSON.parse(l) as { round: number; overlap_previous: number | null; new_documents: number });
  const manifest = JSON.parse(readFileSync(join(loop, 'iterate.json'), 'utf8')) as { stopped: { reason: string; round: number } };
  t.equal(manifest.stopped.reason, 'converged');
  t.ok(manifest.stopped.round < 6, `converged in round ${manifest.stopped.round}`);
  t.ok(report.at(-1)!.overlap_previous! >= 0.98);

  const s1 = new Set(selected(1).map((d) => d.id));
  const s2 = selected(2);
  const recalled = s2.filter((d) => !s1.has(d.id) && kind.get(d.url) !== 'none');
  const unseenSite = recalled.filter((d) => d.url.includes('numbertheory.test/notes'));
  t.ok(recalled.length >= 20, `round 2 recalls ${recalled.length} math pages round 1 missed`);
  t.ok(unseenSite.length >= 10, `${unseenSite.length} of them from numbertheory.test, a site no seed came from`);
  const math = (ds: { url: string }[]) => ds.filter((d) => kind.get(d.url) !== 'none').length;
  t.ok(math(s2) > math(selected(1)), `math pages selected: round 1 ${math(selected(1))}, round 2 ${math(s2)}`);

  const again = await runCli(args(6));
  t.match(again.stderr, /converged in round \d already/);
});
