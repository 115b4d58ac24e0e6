// The safetensors format (https://huggingface.co/docs/safetensors): u64 little-endian header length N, N bytes of
// JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the raw
// little-endian tensor bytes. Offsets are relative to the byte after the header. We pad the header with spaces so
// the data starts 8-byte aligned, as the reference writer does, and store tensors in name order.
// Reading converts BF16 and F16 (how Hugging Face checkpoints are published) to F32, the one float type training
// uses; writing them is for tests and exports, from the raw 16-bit patterns (toBF16/toF16).
import { closeSync, openSync, readSync, fstatSync, writeSync } from 'node:fs';
import { DataError } from '../cli/errors.js';

export type SafeDType = 'F32' | 'I32' | 'U32' | 'F64' | 'I64' | 'BF16' | 'F16';
// Every dtype of the spec, so a file is validated whatever it holds; get() converts only the ones above.
const SIZE: Record<string, number> = { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1 };

export interface NamedTensor {
  dtype: SafeDType;
  shape: number[];
  /** Uint16Array holds the bit patterns of BF16/F16 (written only: reading gives F32). */
  data: Float32Array | Int32Array | Uint32Array | Float64Array | Uint16Array;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** BF16 is the top half of an F32: widening is exact. */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

/** F32 -> BF16 bits, rounding to nearest even (as torch's .to(torch.bfloat16)). */
export function toBF16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    f32[0] = x[i];
    const b = u32[0];
    out[i] = Number.isNaN(x[i]) ? 0x7fc0 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

let halfTable: Float32Array | undefined;

/** F16 -> F32, exact, through a table of all 65536 values (built on first use). */
export function f16ToF32(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >>> 10) & 0x1f;
      const mant = h & 0x3ff;
      halfTable[h] = sign * (exp === 0 ? mant * 2 ** -24 : exp === 31 ? (mant ? NaN : Infinity) : (1 + mant / 1024) * 2 ** (exp - 15));
    }
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfTable[bits[i]];
  return out;
}

/** F32 -> F16 bits, rounding to nearest even; overflow gives infinity, underflow zero or a subnormal. */
export function toF16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    f32[0] = x[i];
    const b = u32[0];
    const sign = (b >>> 16) & 0x8000;
    const exp = (b >>> 23) & 0xff;
    const mant = b & 0x7fffff;
    const e = exp - 112; // rebias 127 -> 15
    let h: number;
    let rem: number;
    let halfway: number;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    } else if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      // Subnormal: the value is h * 2^-24 with the implicit leading 1 made explicit.
      const m = mant | 0x800000;
      const shift = 14 - e;
      h = m >>> shift;
      rem = m & ((1 << shift) - 1);
      halfway = 1 << (shift - 1);
    } else {
      h = (e << 10) | (mant >>> 13);
      rem = mant & 0x1fff;
      halfway = 0x1000;
    }
    // A carry out of the mantissa bumps the exponent, up to infinity: the right result.
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    out[i] = sign | h;
  }
  return out;
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
  /** Reads one tensor: F32, F64, I32, U32 as they are; BF16 and F16 converted to F32. */
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

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** Parse and validate the header per the spec: a corrupt file is bad data (65) naming the file, never a crash. */
function readHeader(fd: number, path: string): { header: Record<string, HeaderEntry>; metadata: Record<string, string>; dataStart: number } {
  const size = fstatSync(fd).size;
  const lenBuf = Buffer.alloc(8);
  if (size < 8) throw new DataError(path, 'not a safetensors file (shorter than 8 bytes)');
  readExactly(fd, lenBuf, 0, path);
  const n = Number(lenBuf.readBigUInt64LE(0));
  if (n > 100_000_000 || 8 + n > size) throw new DataError(path, `safetensors header length ${n} is invalid`);
  const hb = Buffer.alloc(n);
  readExactly(fd, hb, 8, path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(hb.toString('utf8'));
  } catch {
    throw new DataError(path, 'safetensors header is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new DataError(path, 'safetensors header is not a JSON object');
  const { __metadata__, ...entries } = parsed as Record<string, unknown>;
  const metadata = (__metadata__ ?? {}) as Record<string, string>;
  const header = entries as Record<string, HeaderEntry>;
  const dataStart = 8 + n;
  const spans: [number, number, string][] = [];
  for (const [name, e] of Object.entries(header)) {
    const s = SIZE[e?.dtype];
    if (!s) throw new DataError(path, `tensor ${name}: unsupported dtype ${e?.dtype}`);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) throw new DataError(path, `tensor ${name}: shape ${JSON.stringify(e.shape)} is not a list of sizes`);
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2 || !e.data_offsets.every(isCount)) throw new DataError(path, `tensor ${name}: data_offsets must be two byte offsets`);
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
  return { header, metadata, dataStart };
}

/** Open a file and validate its header; tensors are read on demand. */
export function openSafetensors(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new DataError(path, `cannot open: ${(e as Error).message}`);
  }
  let header: Record<string, HeaderEntry>, metadata: Record<string, string>, dataStart: number;
  try {
    ({ header, metadata, dataStart } = readHeader(fd, path));
  } catch (e) {
    closeSync(fd);
    throw e;
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
        case 'BF16':
          return { dtype: 'F32', shape: e.shape, data: bf16ToF32(new Uint16Array(ab)) };
        case 'F16':
          return { dtype: 'F32', shape: e.shape, data: f16ToF32(new Uint16Array(ab)) };
        default:
          throw new DataError(path, `tensor ${name}: dtype ${e.dtype} cannot be loaded (mathpipe trains in float32)`);
      }
    },
    close() {
      closeSync(fd);
    },
  };
}
