// Outputs never destroy: special files are written in place, symlinks are written through, temporaries
// never survive (closed pipes, stale ones of killed runs), a closed stdout fails. See man mathpipe, OUTPUTS.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, lstatSync, openSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lines, runCli, runShell } from '../helpers.js';
import { outputTarget, removeStaleTemps, writeOutputFile, writeOutputParts } from '../../src/cli/output-file.js';
import { addonWith } from '../../src/util/native-addon.js';

const LABELED = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `d${i}`, text: i % 2 ? `integral theorem proof ${i}` : `football recipe travel ${i}`, label: i % 2 ? 'math' : 'other' })).join('\n') + '\n';
const BENCH = Array.from({ length: 5 }, (_, i) => JSON.stringify({ question: `Natalia sold clips to ${i + 40} of her friends in April and then she sold half as many clips in May`, answer: '72' })).join('\n') + '\n';
const DOCS = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: `w${i}`, text: `plain web page number ${i} about gardening and the weather in spring` })).join('\n') + '\n';

const temps = (dir: string) => readdirSync(dir).filter((n) => /\.tmp-\d+$/.test(n));

t.test('the rules: /dev and /proc paths in place, symlinks followed, directories refused', async (t) => {
  const dir = t.testdir({ 'real.jsonl': 'old\n' });
  for (const p of ['/dev/stdout', '/dev/stderr', '/dev/null', '/dev/fd/1', '/proc/self/fd/1']) t.ok(outputTarget(p).direct, `${p} is written in place`);
  symlinkSync('real.jsonl', join(dir, 'link'));
  symlinkSync('nowhere.jsonl', join(dir, 'dangling'));
  t.same(outputTarget(join(dir, 'link')), { path: join(dir, 'link'), target: join(dir, 'real.jsonl'), direct: false }, 'a link is resolved to its target');
  t.equal(outputTarget(join(dir, 'dangling')).target, join(dir, 'nowhere.jsonl'), 'a dangling link names the file to create');
  t.throws(() => outputTarget(dir), /is a directory/);
  writeOutputFile(join(dir, 'link'), 'new\n');
  t.ok(lstatSync(join(dir, 'link')).isSymbolicLink(), 'the link is still a link');
  t.equal(readFileSync(join(dir, 'real.jsonl'), 'utf8'), 'new\n', 'its target holds the new content');
  writeOutputFile(join(dir, 'dangling'), 'made\n');
  t.equal(readFileSync(join(dir, 'nowhere.jsonl'), 'utf8'), 'made\n');
  t.same(temps(dir), [], 'no temporaries left');
});

/** Whether files in dir can be opened with O_DIRECT. */
function directOk(dir: string): boolean {
  try {
    closeSync(openSync(join(dir, 'probe'), constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(join(dir, 'probe'), { force: true });
  }
}

t.test('large outputs written around the page cache (O_DIRECT) hold the same bytes as buffered ones', async (t) => {
  const dir = t.testdir({ 'old.bin': 'previous' });
  // Parts of odd sizes, the big one not a multiple of the bounce buffer (8 MiB) nor of a block (4 KiB).
  const big = new Uint8Array((9 << 20) + 4097);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  const parts = [Buffer.from('header of odd length'), big, new Uint8Array(0), Buffer.from('trailer')];
  const want = Buffer.concat(parts);
  const how = writeOutputParts(join(dir, 'old.bin'), parts, '', 0);
  t.ok(readFileSync(join(dir, 'old.bin')).equals(want), `${how} write: exact bytes and length`);
  if (addonWith('writeDirect') && directOk(dir)) t.equal(how, 'direct', 'with the addon, on a file system that takes O_DIRECT, the write goes around the page cache');
  process.env.MATHPIPE_DIRECT_IO = '0';
  try {
    t.equal(writeOutputParts(join(dir, 'off.bin'), parts, '', 0), 'buffered', 'MATHPIPE_DIRECT_IO=0: through the page cache');
  } finally {
    delete process.env.MATHPIPE_DIRECT_IO;
  }
  t.ok(readFileSync(join(dir, 'off.bin')).equals(want));
  t.equal(writeOutputParts(join(dir, 'small.bin'), parts), 'buffered', 'below the threshold: buffered');
  t.ok(readFileSync(join(dir, 'small.bin')).equals(want), 'below the threshold: buffered, same bytes');
  // tmpfs refuses O_DIRECT: the write falls back to the ordinary path.
  if (existsSync('/dev/shm')) {
    const shm = join('/dev/shm', `mathpipe-test-${process.pid}.bin`);
    writeOutputParts(shm, parts, '', 0);
    t.ok(readFileSync(shm).equals(want), 'a file system without O_DIRECT gets the same bytes');
    rmSync(shm);
  }
  writeOutputParts('/dev/null', parts, '', 0);
  t.same(temps(dir), [], 'no temporaries left');
});

t.test('stale temporaries of dead processes are collected, live ones kept', async (t) => {
  const dir = t.testdir({ 'out.jsonl.tmp-999999999': 'dead', 'out.jsonl.tmp-1': 'init is alive', [`out.jsonl.tmp-${process.pid}x`]: 'not ours' });
  mkdirSync(join(dir, 'ck.tmp-999999998'));
  removeStaleTemps(join(dir, 'out.jsonl'));
  removeStaleTemps(join(dir, 'ck'));
  t.same(readdirSync(dir).sort(), ['out.jsonl.tmp-1', `out.jsonl.tmp-${process.pid}x`].sort());
  // Through the CLI: a run writing out.jsonl removes a SIGKILLed run's temporary.
  writeFileSync(join(dir, 'out.jsonl.tmp-999999997'), 'partial');
  const r = await runCli(['grade', '--workers', '1', '-o', join(dir, 'out.jsonl'), '-'], { input: '{"response":"4","gold":"4"}\n' });
  t.equal(r.code, 0, r.stderr);
  t.notOk(existsSync(join(dir, 'out.jsonl.tmp-999999997')), 'the stale temporary is gone');
});

t.test('model and index writers write through FIFOs and symlinks instead of renaming over them', async (t) => {
  const dir = t.testdir({ 'lab.jsonl': LABELED, 'bench.jsonl': BENCH });
  for (const [what, args] of [
    ['classify train', ['classify', 'train', '--dim', '8', '--epoch', '1', '--minCount', '1', join(dir, 'lab.jsonl'), '-o']],
    ['decontam index', ['decontam', 'index', '--bench', `gsm=${join(dir, 'bench.jsonl')}`, '-o']],
  ] as const) {
    const fifo = join(dir, `${what.replace(' ', '-')}.fifo`);
    spawnSync('mkfifo', [fifo]);
    const reader = spawn('sh', ['-c', `wc -c < ${fifo}`]);
    let count = '';
    reader.stdout.on('data', (b: Buffer) => (count += b.toString()));
    const readerDone = new Promise((res) => reader.on('close', res));
    const r = await runCli([...args, fifo]);
    await readerDone;
    t.equal(r.code, 0, `${what} -o FIFO: ${r.stderr}`);
    t.ok(statSync(fifo).isFIFO(), `${what}: the FIFO is still a FIFO`);
    t.ok(Number(count) > 100, `${what}: the reader got the bytes (${count.trim()})`);

    const target = join(dir, `${what.replace(' ', '-')}.bin`);
    writeFileSync(target, 'old');
    const link = join(dir, `${what.replace(' ', '-')}.link`);
    symlinkSync(target, link);
    const l = await runCli([...args, link]);
    t.equal(l.code, 0, l.stderr);
    t.ok(lstatSync(link).isSymbolicLink(), `${what}: -o link leaves the link a link`);
    t.equal(readlinkSync(link), target);
    t.ok(statSync(target).size > 100, `${what}: the link's target holds the output`);
  }
  // -o /dev/stdout with stdout redirected to a file: the bytes land in the file (the path stays a link).
  const viaStdout = join(dir, 'via-stdout.bin');
  const s = await runShell(`mathpipe -q decontam index --bench gsm=${join(dir, 'bench.jsonl')} -o /dev/stdout > ${viaStdout}`);
  t.equal(s.code, 0, s.stderr);
  t.ok(statSync(viaStdout).size > 100, '-o /dev/stdout > file writes the file');
  t.ok(lstatSync('/dev/stdout').isSymbolicLink(), '/dev/stdout is still a symlink');
  t.same(temps(dir), [], 'no temporaries left');
});

t.test('a closed pipe leaves no temporaries: decontam --removed, mine -j', async (t) => {
  const dir = t.testdir({ 'bench.jsonl': BENCH, 'docs.jsonl': DOCS });
  const r = await runShell(`mathpipe decontam --bench gsm=${join(dir, 'bench.jsonl')} --removed ${join(dir, 'removed.jsonl')} ${join(dir, 'docs.jsonl')} | head -1`);
  t.equal(r.code, 0, r.stderr);
  t.same(temps(dir), [], 'decontam --removed: no temporary');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const warcs = await runShell(`for i in 1 2 3; do node dist/fixtures/mine/warc-gen.js --pages 150 --seed $i -o ${dir}/c$i.warc.gz; done`);
  t.equal(warcs.code, 0, warcs.stderr);
  const m = await runShell(`TMPDIR=${tmp} mathpipe mine -j 3 ${dir}/c1.warc.gz ${dir}/c2.warc.gz ${dir}/c3.warc.gz | head -1`);
  t.equal(m.code, 0, m.stderr);
  t.equal(lines(m.stdout).length, 1);
  t.same(readdirSync(tmp), [], 'mine -j: its scratch directory is gone');
});

t.test('SIGINT during mine -j leaves no scratch directory', async (t) => {
  const dir = t.testdir();
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  // A server that starts a body and never finishes it keeps the run surely mid-way when it is interrupted.
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/warc' });
    res.write('WARC/1.0\r\n');
    held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const r of held) r.destroy();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const p = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, 'bin/mathpipe', 'mine', '-j', '2', `${url}/a.warc`, `${url}/b.warc`, '-o', join(dir, 'out.jsonl')], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: 'ignore',
  });
  const done = new Promise<number | null>((res) => p.on('close', res));
  for (let i = 0; i < 400 && held.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
  t.equal(held.length, 2, 'both inputs are being fetched');
  t.ok(readdirSync(tmp).length, 'the run made its scratch directory');
  p.kill('SIGINT');
  t.equal(await done, 130);
  t.same(readdirSync(tmp), [], 'scratch directory removed');
  t.same(readdirSync(dir), ['tmp'], 'no partial output');
});

t.test('a closed stdout is an I/O error (74), not a silent success', async (t) => {
  const r = await runShell(`echo '{"response":"4","gold":"4"}' | mathpipe grade --workers 1 >&-`);
  t.equal(r.code, 74);
  t.match(r.stderr, /cannot write stdout: it is closed/);
  const ok = await runShell(`echo '{"response":"4","gold":"4"}' | mathpipe -q grade --workers 1 > /dev/null`);
  t.equal(ok.code, 0, '> /dev/null is a choice, not an error');
});

t.test('an unwritable -o fails before training; empty training input is bad data (65)', async (t) => {
  const dir = t.testdir({ 'lab.jsonl': LABELED, 'file': 'x', 'empty.jsonl': '' });
  const r = await runCli(['classify', 'train', '-o', join(dir, 'file', 'model.bin'), join(dir, 'lab.jsonl')]);
  t.equal(r.code, 74);
  t.match(r.stderr, /cannot write .*file\/model\.bin/);
  t.notMatch(r.stderr, /Progress|words\/s/, 'no training happened');
  const e = await runCli(['classify', 'train', '-o', join(dir, 'm.bin'), join(dir, 'empty.jsonl')]);
  t.equal(e.code, 65);
  t.match(e.stderr, /empty\.jsonl: no training examples/);
  const tk = await runCli(['tokenize', 'train', '-v', '300', '-o', join(dir, 'tok'), join(dir, 'empty.jsonl')]);
  t.equal(tk.code, 65);
  t.match(tk.stderr, /empty\.jsonl: no documents to train on/);
});
