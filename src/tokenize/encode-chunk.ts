// Parse one line-aligned chunk of document JSONL and encode every document: the work a tokenize worker
// does. Line handling matches src/jsonl/lines.ts (CR stripped, BOM on a file's first line, blank lines
// ignored, invalid UTF-8 rejected), and errors carry the line number relative to the chunk, which the
// main thread turns into "file:line" when it reaches the chunk in order.
import type { Tokenizer } from '../tokenizer/index.js';
import type { TokenDType } from '../dataset/indexed.js';

export interface EncodeSettings {
  textField: string;
  format: 'megatron' | 'jsonl';
  dtype: TokenDType;
  eos: boolean;
  bos: boolean;
  allowSpecial: boolean;
  skipInvalid: boolean;
}

export interface ChunkError {
  /** 1-based line within the chunk. */
  line: number;
  /** Record id when known, for "file:line (id X)". */
  id?: string;
  detail: string;
}

export interface ChunkResult {
  /** Newlines in the chunk (so the next chunk's line numbers can be computed). */
  lines: number;
  documents: number;
  tokens: number;
  skipped: number;
  /** Megatron: all documents' tokens back to back, and each document's length. */
  data?: Uint16Array | Int32Array;
  lengths?: Int32Array;
  /** JSONL: the output lines, joined by "\n" (no trailing newline). */
  jsonl?: string;
  error?: ChunkError;
}

const strict = new TextDecoder('utf-8', { fatal: true });

function describe(v: unknown): string {
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`;
}

export function encodeChunk(tok: Tokenizer, bytes: Uint8Array, first: boolean, s: EncodeSettings): ChunkResult {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const docs: Uint32Array[] = [];
  const out: string[] = [];
  const res: ChunkResult = { lines: 0, documents: 0, tokens: 0, skipped: 0 };
  const extra = (s.eos ? 1 : 0) + (s.bos ? 1 : 0);
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(10, start);
    if (end === -1) end = buf.length;
    const lineNo = ++res.lines;
    let s0 = start;
    let e0 = end;
    start = end + 1;
    if (e0 > s0 && buf[e0 - 1] === 0x0d) e0--;
    if (first && lineNo === 1 && e0 - s0 >= 3 && buf[s0] === 0xef && buf[s0 + 1] === 0xbb && buf[s0 + 2] === 0xbf) s0 += 3;
    if (e0 <= s0) continue;
    const fail = (detail: string, id?: string): boolean => {
      if (s.skipInvalid) {
        res.skipped++;
        return true;
      }
      res.error = { line: lineNo, detail, ...(id !== undefined ? { id } : {}) };
      return false;
    };
    let text = buf.toString('utf8', s0, e0);
    if (text.includes('\uFFFD')) {
      try {
        text = strict.decode(buf.subarray(s0, e0));
      } catch {
        if (fail('invalid UTF-8')) continue;
        break;
      }
    }
    if (text.trim() === '') continue;
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch (e) {
      if (fail(`invalid JSON (${(e as Error).message})`)) continue;
      break;
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
      if (fail('expected a JSON object')) continue;
      break;
    }
    const r = rec as Record<string, unknown>;
    const id = typeof r.id === 'string' || typeof r.id === 'number' ? String(r.id) : undefined;
    const v = r[s.textField];
    if (typeof v !== 'string') {
      const why = v === undefined ? `missing field "${s.textField}"` : `field "${s.textField}" is not a string but ${describe(v)}`;
      if (fail(why, id)) continue;
      break;
    }
    const ids = tok.encodeArray(v, { allowSpecial: s.allowSpecial });
    res.documents++;
    res.tokens += ids.length + extra;
    if (s.format === 'megatron') docs.push(ids);
    else {
      const all = s.bos || s.eos ? withMarkers(ids, s.bos ? tok.bos : -1, s.eos ? tok.eos : -1) : ids;
      out.push(`{${r.id !== undefined ? `"id":${JSON.stringify(r.id)},` : ''}"tokens":[${all.join(',')}]}`);
    }
  }
  if (s.format === 'jsonl') res.jsonl = out.join('\n');
  else {
    const data = s.dtype === 'uint16' ? new Uint16Array(res.tokens) : new Int32Array(res.tokens);
    const lengths = new Int32Array(docs.length);
    let o = 0;
    for (let i = 0; i < docs.length; i++) {
      if (s.bos) data[o++] = tok.bos;
      data.set(docs[i], o);
      o += docs[i].length;
      if (s.eos) data[o++] = tok.eos;
      lengths[i] = docs[i].length + extra;
    }
    res.data = data;
    res.lengths = lengths;
  }
  return res;
}

function withMarkers(ids: Uint32Array, bos: number, eos: number): Uint32Array {
  const out = new Uint32Array(ids.length + (bos >= 0 ? 1 : 0) + (eos >= 0 ? 1 : 0));
  let o = 0;
  if (bos >= 0) out[o++] = bos;
  out.set(ids, o);
  if (eos >= 0) out[o + ids.length] = eos;
  return out;
}
