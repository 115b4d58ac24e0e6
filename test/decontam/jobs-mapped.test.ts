// -j 2 over mapped files: doc mode scans on the addon's threads (native-pool.ts), segment mode on worker
// threads that read each block in the main thread's mapping (a task is an address, not bytes); kept lines are
// written from the main thread's view either way. Whatever path a block takes, -j 2 must give -j 1's bytes,
// --removed, report and errors (file:line); stdin (blocks as bytes) must give them too.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchItems, writeCorpus } from '../../fixtures/decontam/gen.js';
import { nativeAvailable } from '../../src/decontam/native-scan.js';
import { BLOCK } from '../../src/decontam/blocks.js';
import { runCli } from '../helpers.js';

t.test('-j 2 over a mapped index and input gives -j 1 bytes, report and errors', async (t) => {
  const dir = t.testdir();
  const items = benchItems(40, 9);
  const bench = join(dir, 'arith.jsonl');
  writeFileSync(bench, items.map((x) => JSON.stringify(x)).join('\n'));
  const idx = join(dir, 'arith.idx');
  t.equal((await runCli(['decontam', 'index', '-q', '--bench', bench, '-o', idx])).code, 0);
  // Mostly clean blocks (written from the main thread's view), a few with planted questions (kept bytes
  // come back from the worker), a CRLF line, and a line longer than a block.
  const gen = join(dir, 'gen.jsonl');
  await writeCorpus(gen, items, { seed: 3, docs: 12000, plantEvery: 2000 });
  const src = readFileSync(gen, 'utf8').split('\n');
  src[3000] += '\r';
  src.splice(7000, 0, JSON.stringify({ id: 'long', text: 'plain words '.repeat(Math.ceil((1.5 * BLOCK) / 12)) }));
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, src.join('\n'));
  t.ok(readFileSync(big).length > 6 * BLOCK, 'several blocks');
  t.comment(nativeAvailable() ? 'addon built: files are mapped, -j 2 sends ranges' : 'no addon: files are read as streams');

  const run = async (j: string, file: string, extra: string[] = [], input?: string) => {
    const rem = join(dir, `rem-${j}-${extra.length}-${input ? 'stdin' : 'file'}.jsonl`);
    const rep = join(dir, `rep-${j}-${extra.length}-${input ? 'stdin' : 'file'}.json`);
    const r = await runCli(['decontam', file, '-j', j, '--index', idx, '--removed', rem, '--report', rep, ...extra], input === undefined ? {} : { input });
    const report = r.code === 0 ? JSON.parse(readFileSync(rep, 'utf8')) : undefined;
    if (report) {
      delete report.seconds;
      delete report.jobs;
    }
    return { code: r.code, stdout: r.stdout, stderr: r.stderr.replace(/; [\d.]+s, [\d.]+ MB\/s/, ''), removed: r.code === 0 ? readFileSync(rem, 'utf8') : '', report };
  };
  const one = await run('1', big);
  t.equal(one.code, 0, one.stderr);
  t.ok(one.report.docs_removed >= 4 && one.report.docs_out > 11000, `some removed (${one.report.docs_removed}), most kept`);
  const two = await run('2', big);
  t.equal(two.code, 0, two.stderr);
  t.ok(two.stdout === one.stdout, '-j 2: the same output bytes');
  t.equal(two.removed, one.removed, '-j 2: the same --removed');
  t.same(two.report, one.report, '-j 2: the same report');
  t.equal(two.stderr, one.stderr, '-j 2: the same summary');
  const piped = await run('2', '-', [], src.join('\n'));
  t.ok(piped.stdout === one.stdout, 'stdin -j 2 (bytes to the workers): the same output');
  t.equal(piped.removed, one.removed);
  // Segment mode rewrites documents on the record path: every block's kept bytes come back from the worker.
  const seg1 = await run('1', big, ['--mode', 'segment']);
  const seg2 = await run('2', big, ['--mode', 'segment']);
  t.equal(seg1.code, 0, seg1.stderr);
  t.ok(seg2.stdout === seg1.stdout && seg2.removed === seg1.removed, 'segment mode: -j 2 gives -j 1 bytes');
  t.same(seg2.report, seg1.report);

  // A bad line in the second half of the file: its block went to a worker as a range.
  const lines = src.slice();
  const badLine = 9500;
  lines.splice(badLine - 1, 0, '{"id": 1, "text": broken');
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, lines.join('\n'));
  const e1 = await run('1', bad);
  const e2 = await run('2', bad);
  t.equal(e1.code, 65, e1.stderr);
  t.match(e1.stderr, new RegExp(`bad\\.jsonl:${badLine}: invalid JSON`));
  t.equal(e2.code, e1.code);
  t.equal(e2.stderr, e1.stderr, '-j 2 names the same file:line');
  const s1 = await run('1', bad, ['--skip-invalid']);
  const s2 = await run('2', bad, ['--skip-invalid']);
  t.equal(s1.code, 0, s1.stderr);
  t.ok(s2.stdout === s1.stdout && s1.stdout === one.stdout, '--skip-invalid: the same output, without the bad line');
  t.same(s2.report, s1.report);
  t.equal(s1.report.skipped_invalid_lines, 1);
  t.equal(s2.stderr, s1.stderr);
});
