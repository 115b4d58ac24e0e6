// Encode every document of one line-aligned chunk of JSONL: the work a tokenize worker does.
import type { Tokenizer } from '../tokenizer/index.js';
import type { TokenDType } from '../dataset/indexed.js';
import { scanRecords, type ScanResult } from './records.js';

export interface EncodeSettings {
  textField: string;
  format: 'megatron' | 'jsonl';
  dtype: TokenDType;
  eos: boolean;
  bos: boolean;
  allowSpecial: boolean;
  skipInvalid: boolean;
}

export interface ChunkResult extends ScanResult {
  documents: number;
  tokens: number;
  /** Megatron: all documents' tokens back to back, and each document's length. */
  data?: Uint16Array | Int32Array;
  lengths?: Int32Array;
  /** JSONL: the output lines, joined by "\n" (no trailing newline). */
  jsonl?: string;
}

export function encodeChunk(tok: Tokenizer, bytes: Uint8Array, first: boolean, s: EncodeSettings): ChunkResult {
  const docs: Uint32Array[] = [];
  const out: string[] = [];
  const extra = (s.eos ? 1 : 0) + (s.bos ? 1 : 0);
  let tokens = 0;
  const scan = scanRecords(bytes, first, s, (text, id) => {
    const ids = tok.encodeArray(text, { allowSpecial: s.allowSpecial });
    tokens += ids.length + extra;
    if (s.format === 'megatron') docs.push(ids);
    else {
      const all = extra ? withMarkers(ids, s.bos ? tok.bos : -1, s.eos ? tok.eos : -1) : ids;
      out.push(`{${id !== undefined ? `"id":${JSON.stringify(id)},` : ''}"tokens":[${all.join(',')}]}`);
    }
  });
  const res: ChunkResult = { ...scan, documents: s.format === 'megatron' ? docs.length : out.length, tokens };
  if (s.format === 'jsonl') res.jsonl = out.join('\n');
  else {
    const data = s.dtype === 'uint16' ? new Uint16Array(tokens) : new Int32Array(tokens);
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
