// Binary files of the sharded steps (dedup SIG/PAIRS/PLAN, select STATS): a magic string, a JSON
// header, and typed-array columns each padded to 8 bytes:
//   MAGIC (8 bytes) | u32 JSON length | JSON header | pad to 8 | column | pad | column | ...
// Written through writeOutputFd, so a file appears only when complete: its presence is the step's
// completion marker.
import { readFileSync } from 'node:fs';
import { DataError, IoError, systemReason } from '../cli/errors.js';
import { writeAll, writeOutputFd } from '../cli/output-file.js';

function frame(magic: string, header: object, columns: ArrayBufferView[]): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(12);
  head.write(magic, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  const pad = Buffer.alloc((8 - ((12 + json.length) % 8)) % 8);
  const parts = [head, json, pad];
  for (const c of columns) {
    parts.push(Buffer.from(c.buffer as ArrayBuffer, c.byteOffset, c.byteLength));
    const p = c.byteLength % 8;
    if (p) parts.push(Buffer.alloc(8 - p));
  }
  return parts;
}

export function writeFramed(path: string, magic: string, header: object, columns: ArrayBufferView[]): void {
  writeOutputFd(path, (fd) => {
    for (const p of frame(magic, header, columns)) writeAll(fd, p);
  });
}

export class Reader {
  off: number;
  readonly header: Record<string, unknown>;
  constructor(
    readonly path: string,
    readonly buf: Buffer,
    magic: string,
    what: string,
  ) {
    if (buf.length < 12 || buf.toString('latin1', 0, 8) !== magic) throw new DataError(path, `not a ${what} file`);
    const len = buf.readUInt32LE(8);
    this.header = JSON.parse(buf.toString('utf8', 12, 12 + len)) as Record<string, unknown>;
    this.off = 12 + len + ((8 - ((12 + len) % 8)) % 8);
  }
  take<T>(ctor: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number }, n: number): T {
    const bytes = n * ctor.BYTES_PER_ELEMENT;
    if (this.off + bytes > this.buf.length) throw new DataError(this.path, 'truncated file');
    // Copied to an aligned buffer of its own.
    const copy = (this.buf.buffer as ArrayBuffer).slice(this.buf.byteOffset + this.off, this.buf.byteOffset + this.off + bytes);
    this.off += bytes + ((8 - (bytes % 8)) % 8);
    return new ctor(copy, 0, n);
  }
}

export function load(path: string, magic: string, what: string): Reader {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new IoError(`cannot read ${path}: ${systemReason(e as Error)}`);
  }
  return new Reader(path, buf, magic, what);
}
