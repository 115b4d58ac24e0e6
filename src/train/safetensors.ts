// The safetensors format (https://huggingface.co/docs/safetensors): u64 little-endian header length N, N bytes of
// JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the raw
// little-endian tensor bytes. Offsets are relative to the byte after the header. We pad the header with spaces so
// the data starts 8-byte aligned, as the reference writer does, and store tensors in name order.
import { closeSync, openSync, readSync, fstatSync, writeSync } from 'node:fs';
import { DataError } from '../cli/errors.js';

export type SafeDType = 'F32' | 'I32' | 'U32' | 'F64' | 'I64';
const SIZE: Record<string, number> = { F32: 4, I32: 4, U32: 4, F64: 8, I64: 8, F16: 2, BF16: 2 };

export interface NamedTensor {
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Int32Array | Uint32Array | Float64Array;
}

export interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function encodeSafetensors(tensors: Map<string, NamedTensor>, metadata: Record<string, string> = {}): Buffer[] {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  for (const n of names) {
    const t = tensors.get(n)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`tensor ${n}: shape ${JSON.stringify(t.shape)} does not match ${t.data.length} values`);
    const bytes = t.data.byteLength;
    header[n] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const head = Buffer.alloc(8 + Buffer.byteLength(json));
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0);
  head.write(json, 8, 'utf8');
  // Typed arrays are little-endian on every platform Node runs on in practice; refuse silently-wrong output anyway.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian hosts are not supported');
  return [head, ...names.map((n) => {
    const d = tensors.get(n)!.data;
    return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  })];
}

export function writeSafetensors(path: string, tensors: Map<string, NamedTensor>, metadata: Record<string, string> = {}): void {
  const fd = openSync(path, 'w');
  try {
    for (const b of encodeSafetensors(tensors, metadata)) {
      let o = 0;
      while (o < b.length) o += writeSync(fd, b, o, b.length - o);
    }
  } finally {
    closeSync(fd);
  }
}

export interface SafetensorsFile {
  header: Record<string, HeaderEntry>;
  metadata: Record<string, string>;
  /** Reads one tensor as float32 (F32 only) or int32. */
  get(name: string): NamedTensor;
  close(): void;
}

function readExactly(fd: number, buf: Buffer, pos: number, path: string): void {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, pos + got);
    if (n === 0) throw new DataError(path, 'file is truncated');
    got += n;
  }
}

/** Parse and validate the header per the spec; tensors are read on demand. */
export function openSafetensors(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new DataError(path, `cannot open: ${(e as Error).message}`);
  }
  const size = fstatSync(fd).size;
  const lenBuf = Buffer.alloc(8);
  if (size < 8) throw new DataError(path, 'not a safetensors file (shorter than 8 bytes)');
  readExactly(fd, lenBuf, 0, path);
  const n = Number(lenBuf.readBigUInt64LE(0));
  if (n > 100_000_000 || 8 + n > size) throw new DataError(path, `safetensors header length ${n} is invalid`);
  const hb = Buffer.alloc(n);
  readExactly(fd, hb, 8, path);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(hb.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new DataError(path, 'safetensors header is not valid JSON');
  }
  const metadata = (parsed.__metadata__ ?? {}) as Record<string, string>;
  delete parsed.__metadata__;
  const header = parsed as Record<string, HeaderEntry>;
  const dataStart = 8 + n;
  const spans: [number, number, string][] = [];
  for (const [name, e] of Object.entries(header)) {
    const s = SIZE[e?.dtype];
    if (!s) throw new DataError(path, `tensor ${name}: unsupported dtype ${e?.dtype}`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [b, en] = e.data_offsets;
    if (en - b !== count * s) throw new DataError(path, `tensor ${name}: data_offsets do not match its shape and dtype`);
    if (dataStart + en > size) throw new DataError(path, `tensor ${name}: data lies past the end of the file`);
    spans.push([b, en, name]);
  }
  // The spec requires the byte buffer to be fully indexed with no holes or overlaps.
  spans.sort((a, b) => a[0] - b[0]);
  let pos = 0;
  for (const [b, en, name] of spans) {
    if (b !== pos) throw new DataError(path, `tensor ${name}: data_offsets leave a hole or overlap`);
    pos = en;
  }
  return {
    header,
    metadata,
    get(name) {
      const e = header[name];
      if (!e) throw new DataError(path, `tensor ${name} is missing`);
      const [b, en] = e.data_offsets;
      const buf = Buffer.alloc(en - b);
      readExactly(fd, buf, dataStart + b, path);
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      switch (e.dtype) {
        case 'F32':
          return { dtype: 'F32', shape: e.shape, data: new Float32Array(ab) };
        case 'I32':
          return { dtype: 'I32', shape: e.shape, data: new Int32Array(ab) };
        case 'U32':
          return { dtype: 'U32', shape: e.shape, data: new Uint32Array(ab) };
        case 'F64':
          return { dtype: 'F64', shape: e.shape, data: new Float64Array(ab) };
        default:
          throw new DataError(path, `tensor ${name}: dtype ${e.dtype} cannot be loaded (mathpipe trains in float32)`);
      }
    },
    close() {
      closeSync(fd);
    },
  };
}
