// Fetching over HTTP from a local server (127.0.0.1 only) that injects faults: 503s, 429 with
// Retry-After, reset connections, stalled bodies and truncated bodies. The miner must recover and write
// exactly what a clean run writes. Also: byte ranges, CC index input, paths lists, and --resume.
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawn } from 'node:child_process';
import { runCli, lines, BIN } from '../helpers.js';
import { generateWarc } from '../../fixtures/mine/warc-gen.js';

const A = generateWarc({ pages: 40, seed: 11 }).bytes;
const B = generateWarc({ pages: 24, seed: 12 }).bytes;
const files: Record<string, Buffer> = { 'a.warc.gz': A, 'b.warc.gz': B };

/** Faults still to inject, per "fault/file" key; each request consumes one. */
const pending = new Map<string, number>();
const hits = new Map<string, number>();

function serveRange(req: IncomingMessage, res: ServerResponse, data: Buffer): Buffer {
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (!m) {
    res.writeHead(200, { 'content-length': data.length, 'accept-ranges': 'bytes' });
    return data;
  }
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), data.length - 1) : data.length - 1;
  res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${data.length}` });
  return data.subarray(start, end + 1);
}

const server = createServer((req, res) => {
  const [, fault = '', name = ''] = /^\/([^/]+)\/(.+)$/.exec(req.url ?? '') ?? [];
  const key = `${fault}/${name}`;
  hits.set(key, (hits.get(key) ?? 0) + 1);
  if (name === 'list.paths.gz') {
    res.end(gzipSync('clean/a.warc.gz\nclean/b.warc.gz\nflaky404/b.warc.gz\n'));
    return;
  }
  const data = files[name];
  if (!data) {
    res.writeHead(404).end();
    return;
  }
  const left = pending.get(key) ?? 0;
  if (fault === 'flaky404' && left > 0) {
    pending.set(key, left - 1);
    res.writeHead(404).end();
    return;
  }
  if (fault === 'hang' && left > 0) {
    pending.set(key, left - 1);
    return; // never answers: the client is interrupted while waiting
  }
  if (fault !== 'clean' && left > 0) {
    pending.set(key, left - 1);
    if (fault === '503') return void res.writeHead(503).end('busy');
    if (fault === '429') return void res.writeHead(429, { 'retry-after': '1' }).end();
    const body = serveRange(req, res, data);
    const half = body.subarray(0, body.length >> 1);
    if (fault === 'reset') return void res.write(half, () => req.socket.resetAndDestroy());
    if (fault === 'slow') return void res.write(half); // then nothing: the miner's body timeout fires
    if (fault === 'trunc') return void res.write(half, () => req.socket.end());
  }
  res.end(serveRange(req, res, data));
});

let base = '';
t.before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
t.teardown(() => {
  server.closeAllConnections();
  server.close();
});

const FAST = ['--retry-base-ms', '20', '--retry-max-ms', '100', '--timeout', '1'];

t.test('faults are retried and the output equals the clean run', async (t) => {
  const clean = await runCli(['mine', `${base}/clean/a.warc.gz`]);
  t.equal(clean.code, 0, clean.stderr);
  t.equal(lines(clean.stdout).length, 40);
  const normal = (s: string) => s.replaceAll(/\/(?:clean|503|429|reset|slow|trunc)\//g, '/X/');
  for (const [fault, times] of [['503', 2], ['429', 1], ['reset', 2], ['slow', 1], ['trunc', 2]] as const) {
    pending.set(`${fault}/a.warc.gz`, times);
    const started = Date.now();
    const r = await runCli(['mine', ...FAST, `${base}/${fault}/a.warc.gz`]);
    t.equal(r.code, 0, `${fault}: ${r.stderr}`);
    t.equal(normal(r.stdout), normal(clean.stdout), `${fault}: same output`);
    t.match(r.stderr, /retry 1\//, `${fault}: retried`);
    t.equal(pending.get(`${fault}/a.warc.gz`), 0, `${fault}: every fault was served`);
    if (fault === '429') t.ok(Date.now() - started >= 1000, 'Retry-After honoured');
  }
});

t.test('retries run out: exit 74, or skipped and counted with --keep-going', async (t) => {
  pending.set('503/b.warc.gz', 100);
  const r = await runCli(['mine', ...FAST, '--retries', '2', `${base}/503/b.warc.gz`]);
  t.equal(r.code, 74);
  t.match(r.stderr, /cannot fetch .*503\/b\.warc\.gz: HTTP 503 \(after 2 retries\)/);
  const missing = await runCli(['mine', ...FAST, `${base}/clean/missing.warc.gz`]);
  t.equal(missing.code, 74);
  t.match(missing.stderr, 'HTTP 404');
  const kg = await runCli(['mine', ...FAST, '--keep-going', `${base}/clean/missing.warc.gz`, `${base}/clean/b.warc.gz`]);
  t.equal(kg.code, 74, 'still says something was lost');
  t.equal(lines(kg.stdout).length, 24);
  t.match(kg.stderr, /1 inputs failed/);
  const side = join(t.testdir(), 'errors.jsonl');
  await runCli(['mine', ...FAST, '--keep-going', '--errors', side, `${base}/clean/missing.warc.gz`]);
  t.match(JSON.parse(readFileSync(side, 'utf8')), { file: `${base}/clean/missing.warc.gz`, error: /HTTP 404/ });
  pending.delete('503/b.warc.gz');
});

t.test('--range and --cc-index read single records by byte range', async (t) => {
  const all = lines((await runCli(['mine', `${base}/clean/a.warc.gz`])).stdout).map((l) => JSON.parse(l));
  const d = all[7];
  const one = await runCli(['mine', '--range', `${d.provenance.offset}:${d.provenance.length}`, `${base}/clean/a.warc.gz`]);
  t.equal(one.code, 0, one.stderr);
  t.same(JSON.parse(one.stdout), d);
  const dir = t.testdir();
  const idx = join(dir, 'hits.jsonl');
  const picks = [all[3], all[20], all[9]];
  writeFileSync(idx, picks.map((p) => JSON.stringify({ url: p.url, filename: 'clean/a.warc.gz', offset: String(p.provenance.offset), length: String(p.provenance.length) })).join('\n'));
  const r = await runCli(['mine', '--cc-index', idx, '--base-url', `${base}/`, '-j', '3']);
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout).map((l) => JSON.parse(l).id), picks.map((p) => p.id));
  writeFileSync(idx, '{"filename":"x.warc.gz"}\n');
  const bad = await runCli(['mine', '--cc-index', idx]);
  t.equal(bad.code, 65);
  t.match(bad.stderr, `${idx}:1: a CC index record needs`);
});

t.test('paths list + --jobs + --resume: a re-run finishes the job, same output as one clean run', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'docs.jsonl');
  const a = await runCli(['mine', `${base}/clean/a.warc.gz`]);
  const b = await runCli(['mine', `${base}/clean/b.warc.gz`]);
  const want = a.stdout + b.stdout + b.stdout.replaceAll('/clean/b.warc.gz', '/flaky404/b.warc.gz');

  pending.set('flaky404/b.warc.gz', 1); // the third input fails once (404: not retried)
  const first = await runCli(['mine', ...FAST, '-j', '3', '--resume', '--keep-going', '-o', out, '--base-url', `${base}/`, `${base}/x/list.paths.gz`]);
  t.equal(first.code, 74, first.stderr);
  t.ok(existsSync(`${out}.mine-state`), 'state kept for the failed input');
  const hitsA = hits.get('clean/a.warc.gz');

  const second = await runCli(['mine', ...FAST, '-j', '3', '--resume', '--keep-going', '-o', out, '--base-url', `${base}/`, `${base}/x/list.paths.gz`]);
  t.equal(second.code, 0, second.stderr);
  t.match(second.stderr, /2 inputs resumed/);
  t.equal(hits.get('clean/a.warc.gz'), hitsA, 'finished inputs are not fetched again');
  t.equal(readFileSync(out, 'utf8'), want);
  t.notOk(existsSync(`${out}.mine-state`), 'state removed after success');

  const seq = await runCli(['mine', '-j', '1', '--base-url', `${base}/`, `${base}/x/list.paths.gz`]);
  t.equal(seq.stdout, want, '-j 1 gives the same bytes');
  const noOut = await runCli(['mine', '--resume', `${base}/clean/a.warc.gz`]);
  t.equal(noOut.code, 2);
});

t.test('interrupted with Ctrl-C (exit 130), then resumed: same output as an uninterrupted run', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'docs.jsonl');
  const args = ['mine', '-j', '1', '--resume', '-o', out, `${base}/clean/a.warc.gz`, `${base}/hang/b.warc.gz`];
  pending.set('hang/b.warc.gz', 1);
  const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, BIN, ...args], { stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  // Interrupt once the first input is done and the second is being waited for.
  while (!existsSync(join(`${out}.mine-state`, '000000.done.json')) || pending.get('hang/b.warc.gz') !== 0) {
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGINT');
  t.equal(await exited, 130);
  t.notOk(existsSync(out), 'no output file after an interruption');
  const hitsA = hits.get('clean/a.warc.gz');
  const again = await runCli(args);
  t.equal(again.code, 0, again.stderr);
  t.match(again.stderr, /1 inputs resumed/);
  t.equal(hits.get('clean/a.warc.gz'), hitsA, 'the finished input was not fetched again');
  const a = await runCli(['mine', `${base}/clean/a.warc.gz`]);
  const b = await runCli(['mine', `${base}/hang/b.warc.gz`]);
  t.equal(readFileSync(out, 'utf8'), a.stdout + b.stdout);
});
