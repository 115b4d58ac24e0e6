// The byte-level scan (block-scan.ts, in JS and in the native addon) against the record path it replaces
// (each line decoded, JSON.parse'd and matched by scan.ts): the same documents kept, byte for byte, the
// same evidence, counts, skips and errors. Always on a synthetic corpus full of escapes, non-ASCII text,
// surrogate pairs and malformed lines; also on ../shared/data's web text when present.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIndex } from '../../src/decontam/bench.js';
import { BlockScanner, resolveKept, type BlockResult } from '../../src/decontam/block-scan.js';
import { findText, found } from '../../src/decontam/json-line.js';
import type { NgramIndex } from '../../src/decontam/ngram-index.js';
import { Scanner, type ScanOptions } from '../../src/decontam/scan.js';
import { Words, nfkcStable, splitUnits, splitWords, unitBuffer } from '../../src/decontam/words.js';
import { decodeLine, parseLine, type Line } from '../../src/jsonl/index.js';
import { at } from '../../src/cli/errors.js';
import { mulberry32 } from '../../fixtures/rng.js';
import { sharedData } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mp-bytescan-'));

// Pieces of text that exercise every branch of the word splitter and of the JSON decoder. RARE ones are
// not their own NFKC (or are astral): a document holding one goes back to the JS path, so they are few.
const PIECES = [
  'the', 'Janet’s', "ducks'", 'lay', '16', 'eggs', 'x^2+x-6', '\\frac{1}{2}', '\\dfrac', '\\begin{pmatrix}', '\\end{pmatrix}',
  '\\label{eq:1}', '\\\\', '\\,', '<<48/2=24>>24', '<<a\nb>>', '<', '<<', 'Éte', 'ÉTÉ', 'straße', 'İstanbul',
  '妈咪买了3盒', 'カタカナ', '한국어', '\t', '\r\n', '"quoted"', '/', '\u0000', '\u001f', '\u2028', '\uFFFD', 'ΣΑΣ',
];
const RARE = ['ǅ', 'ℌ', '\u1100\u1161', 'e\u0301', '\u00a0', '…', 'ℕ', '™', 'ﬁnd', 'x²', '½', '𝐱', '𠀀', '😀', 'Ｘ', 'ﬀ', '㎏'];

function text(rnd: () => number, words: number): string {
  let s = '';
  for (let i = 0; i < words; i++) s += PIECES[Math.floor(rnd() * PIECES.length)] + (rnd() < 0.1 ? '\n' : ' ');
  if (rnd() < 0.1) s += RARE[Math.floor(rnd() * RARE.length)];
  return s;
}

/** A JSON string with its non-ASCII characters (and a few others) as \uXXXX escapes, in either case, some "/" as "\/". */
function encodeString(v: string, rnd: () => number): string {
  const s = JSON.stringify(v);
  let out = '"';
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i];
    const code = c.charCodeAt(0);
    if (c === '\\') {
      const len = s[i + 1] === 'u' ? 6 : 2;
      out += s.slice(i, i + len);
      i += len - 1;
    } else if (code > 127 || rnd() < 0.02) {
      const hex = code.toString(16).padStart(4, '0');
      out += rnd() < 0.5 ? `\\u${hex}` : `\\u${hex.toUpperCase()}`;
    } else if (c === '/' && rnd() < 0.5) out += '\\/';
    else out += c;
  }
  return out + '"';
}

/** Lines of every kind the scan meets; `planted` texts (from the index) make some documents match. */
function corpus(seed: number, docs: number, planted: string[]): string[] {
  const rnd = mulberry32(seed);
  const lines: string[] = [];
  for (let i = 0; i < docs; i++) {
    let body = text(rnd, 5 + Math.floor(rnd() * 60));
    if (rnd() < 0.2) body += ' ' + planted[Math.floor(rnd() * planted.length)];
    const rec: Record<string, unknown> = { id: `d${i}`, text: body, n: [1, -2.5e3, 0, true, null, { t: 'x' }], nested: { text: 'not this one' } };
    const r = rnd();
    let line = JSON.stringify(rec);
    if (rnd() < 0.5) line = JSON.stringify({ ...rec, text: '@' }).replace('"@"', encodeString(body, rnd));
    if (r < 0.03) line = line.replace(/^\{/, '{"text": 5, '); // a duplicate key: the last one counts
    else if (r < 0.06) line = `{"text": 5, "id": "d${i}"}`; // not a string
    else if (r < 0.08) line = `{"id": "d${i}"}`; // missing
    else if (r < 0.1) line = line.slice(0, -3); // truncated
    else if (r < 0.11) line = `[1, 2]`;
    else if (r < 0.12) line = `{"t\\u0065xt": ${JSON.stringify(body)}}`; // the key spelled with an escape
    else if (r < 0.13) line = ` \t${line}  `;
    else if (r < 0.14) line = line + '\r';
    else if (r < 0.15) line = '   ';
    else if (r < 0.16) line = line.replace(/"text":"/, '"text":"\\ud800 lone \\udc00 ');
    else if (r < 0.17) line = line.replace(/\}$/, ', "x": 01}'); // a leading zero: invalid JSON
    else if (r < 0.18) line = line.replace(/\}$/, `, "deep": ${'['.repeat(300)}${']'.repeat(300)}}`);
    else if (r < 0.19) line = line.replace(/\}$/, ', "e": 1E+2, "f": -0.5e-3, "u": "\\u00e9\\uD83D\\uDE00"}');
    else if (r < 0.2) line = line.replace(/\}$/, ', "bad": "\\x"}');
    lines.push(line);
  }
  return lines;
}

/** Lines as bytes; some made invalid UTF-8, the first given a BOM. */
function bytes(lines: string[], seed: number): Buffer {
  const rnd = mulberry32(seed);
  const parts = lines.map((l, i) => {
    let b = Buffer.from(l + '\n');
    if (i === 0) b = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]);
    if (rnd() < 0.02 && b.length > 20) {
      b = Buffer.from(b);
      b[10 + Math.floor(rnd() * (b.length - 12))] = [0xff, 0xc0, 0xed, 0xf5][Math.floor(rnd() * 4)];
    }
    return b;
  });
  return Buffer.concat(parts);
}

interface Outcome {
  kept: string;
  removed: string;
  counts: Record<string, number>;
  hits: number[];
  skipped: number;
}

/** The record path: what decontam did before the byte scan, line by line. */
function reference(index: NgramIndex, o: ScanOptions, buf: Buffer, file: string): Outcome {
  const sc = new Scanner(index, o);
  let skipped = 0;
  const kept: string[] = [];
  const removed: string[] = [];
  let lineNo = 1;
  for (let s = 0; s < buf.length; lineNo++) {
    let nl = buf.indexOf(10, s);
    if (nl < 0) nl = buf.length;
    const lines: Line[] = [];
    if (!decodeLine(buf, s, nl, file, lineNo, lines, o.skipInvalid)) skipped++;
    s = nl + 1;
    if (!lines.length) continue;
    let value;
    try {
      value = parseLine(lines[0].text, at(file, lineNo));
    } catch (e) {
      if (!o.skipInvalid) throw e;
      skipped++;
      continue;
    }
    sc.record({ value, raw: lines[0].text, file, line: lineNo });
    const d = sc.drain();
    kept.push(...d.kept.map((k) => k + '\n'));
    removed.push(...d.removed);
  }
  return { kept: kept.join(''), removed: removed.join('\n'), counts: { ...sc.counts }, hits: sc.hits, skipped };
}

type Path = 'js' | 'native' | 'batch';

/**
 * The block scan over blocks of about `block` bytes of whole lines: in JS, natively one block at a time, or
 * natively in batches of 8 blocks on 2 threads (BlockScanner.scanBatch, what decontam runs).
 */
function blockScan(index: NgramIndex, o: ScanOptions, buf: Buffer, file: string, path: Path, block = 4096): Outcome & { native: boolean; handedBack: number; lines: number } {
  const sc = new BlockScanner(index, o, path !== 'js');
  const kept: Uint8Array[] = [];
  const removed: string[] = [];
  let skipped = 0;
  const counts: Record<string, number> = {};
  const hits = index.benchmarks.map(() => 0);
  const blocks: { buf: Buffer; file: string; firstLine: number }[] = [];
  let line = 1;
  for (let s = 0; s < buf.length; ) {
    let e = buf.indexOf(10, Math.min(buf.length, s + block));
    e = e < 0 ? buf.length : e + 1;
    const part = buf.subarray(s, e);
    blocks.push({ buf: Buffer.from(part), file, firstLine: line });
    for (let i = part.indexOf(10); i >= 0; i = part.indexOf(10, i + 1)) line++;
    s = e;
  }
  const results: BlockResult[] = [];
  if (path === 'batch' && sc.isNative) for (let i = 0; i < blocks.length; i += 8) results.push(...sc.scanBatch(blocks.slice(i, i + 8), 2));
  else for (const b of blocks) results.push(sc.scan(b.buf, b.file, b.firstLine));
  results.forEach((r, i) => {
    kept.push(...resolveKept(r, blocks[i].buf));
    if (r.removed) removed.push(r.removed);
    skipped += r.skipped;
    for (const [k, v] of Object.entries(r.counts)) counts[k] = (counts[k] ?? 0) + v;
    r.hits.forEach((v, j) => (hits[j] += v));
  });
  return { kept: Buffer.concat(kept).toString(), removed: removed.join('\n'), counts, hits, skipped, native: sc.isNative, handedBack: sc.handedBack, lines: line - 1 };
}

async function indexOf(texts: string[], n: number): Promise<NgramIndex> {
  const file = join(dir, `bench-${n}.jsonl`);
  writeFileSync(file, texts.map((q, i) => JSON.stringify({ id: `b${i}`, question: q })).join('\n') + '\n');
  return buildIndex([file], n, { stoplist: ['none'], maxItems: 0 });
}

function compare(t: Test, index: NgramIndex, buf: Buffer, what: string, textField = 'text', modes: readonly ('doc' | 'segment')[] = ['doc', 'segment']): void {
  for (const mode of modes) {
    const o: ScanOptions = { textField, mode, skipInvalid: true, evidence: true };
    const ref = reference(index, o, buf, 'c.jsonl');
    for (const path of ['js', 'native', 'batch'] as const) {
      const got = blockScan(index, o, buf, 'c.jsonl', path);
      const name = `${what}, ${mode} mode, ${got.native ? (path === 'batch' ? 'native batch' : 'native') : 'JS'} scan`;
      t.equal(got.kept, ref.kept, `${name}: the same lines kept, byte for byte`);
      t.equal(got.removed, ref.removed, `${name}: the same evidence`);
      t.same(got.counts, ref.counts, `${name}: the same counts`);
      t.same([got.hits, got.skipped], [ref.hits, ref.skipped], `${name}: the same hits and skips`);
      // Lines the native scan settled itself: kept ones (the rest go back to JS by design).
      const settled = got.lines - got.handedBack;
      if (got.native) t.ok(settled > got.counts.docs_out / 2, `${name}: ${settled} of ${got.counts.docs_out} kept lines settled natively`);
    }
  }
}

const rnd = mulberry32(7);
const planted = Array.from({ length: 40 }, () => text(rnd, 4 + Math.floor(rnd() * 12)));

t.test('synthetic corpus: escapes, non-ASCII, surrogates, malformed lines', async (t) => {
  const buf = bytes(corpus(1, 1500, planted), 2);
  for (const n of [5, 10]) {
    const index = await indexOf(planted, n);
    const ref = reference(index, { textField: 'text', mode: 'doc', skipInvalid: true, evidence: false }, buf, 'c.jsonl');
    const c = ref.counts;
    t.ok(c.docs_out > 100 && c.docs_removed > 100 && ref.skipped > 50, `n=${n}: ${c.docs_out} kept, ${c.docs_removed} removed, ${ref.skipped} skipped`);
    compare(t, index, buf, `n=${n}`);
  }
});

t.test('without --skip-invalid: the first bad line is the error, on every path', async (t) => {
  const index = await indexOf(planted, 10);
  const lines = corpus(3, 200, planted);
  const o: ScanOptions = { textField: 'text', mode: 'doc', skipInvalid: false, evidence: false };
  const buf = bytes(lines, 4);
  const err = (f: () => unknown) => {
    try {
      f();
      return 'no error';
    } catch (e) {
      return (e as Error).message;
    }
  };
  const want = err(() => reference(index, o, buf, 'c.jsonl'));
  t.not(want, 'no error');
  for (const path of ['js', 'native', 'batch'] as const) t.equal(err(() => blockScan(index, o, buf, 'c.jsonl', path)), want, `${path} scan`);
});

t.test('--text-field: another field, and one JSON would escape (record path only)', async (t) => {
  const index = await indexOf(planted, 10);
  const lines = corpus(5, 300, planted).map((l) => l.replace(/"text"/g, '"body"').replace(/"t\\u0065xt"/g, '"b\\u006fdy"'));
  for (const field of ['body', 'b"dy']) compare(t, index, bytes(lines, 6), `--text-field ${field}`, field, ['doc']);
});

t.test('words from decoded bytes equal words from the parsed string', async (t) => {
  const key = Buffer.from('text');
  const w1 = new Words();
  const w2 = new Words();
  let same = 0;
  let checked = 0;
  for (const line of corpus(9, 800, planted)) {
    const buf = Buffer.from(line);
    const units = unitBuffer(buf.length);
    if (!findText(buf, 0, buf.length, key, units)) continue;
    if (found.nonAscii && !nfkcStable(units, found.length)) continue;
    checked++;
    splitUnits(units, found.length, w1);
    splitWords((JSON.parse(line) as { text: string }).text, w2);
    if (w1.count === w2.count && w1.hashA.subarray(0, w1.count).every((a, i) => a === w2.hashA[i] && w1.hashB[i] === w2.hashB[i])) same++;
  }
  t.ok(checked > 300, `${checked} lines decoded`);
  t.equal(same, checked);
});

const web = sharedData('web/classify.dev.jsonl');
t.test('real web text (../shared/data) when present', { skip: web ? false : '../shared/data absent' }, async (t) => {
  const buf = readFileSync(web!);
  // Benchmark texts: 12-word windows of some documents, so those must be found by every path.
  const r = mulberry32(11);
  const docs = buf.toString().split('\n').filter(Boolean).slice(0, 400);
  const windows: string[] = [];
  for (let i = 0; i < docs.length; i += 7) {
    const words = ((JSON.parse(docs[i]) as { text: string }).text ?? '').split(/\s+/);
    const at = Math.floor(r() * Math.max(1, words.length - 12));
    windows.push(words.slice(at, at + 12).join(' '));
  }
  const index = await indexOf(windows, 10);
  compare(t, index, Buffer.from(docs.join('\n') + '\n'), 'web text');
});
