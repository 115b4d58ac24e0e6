// JSONL output to stdout or a file. Writes are batched into large chunks and respect backpressure,
// so memory stays flat when the consumer is slow. Files follow cli/output-file's rules (temporary name
// renamed when complete; devices and pipes written in place; symlinks written through).
import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { IoError, systemReason } from '../cli/errors.js';
import { OutputFile } from '../cli/output-file.js';
import type { JsonlRecord, Json } from './read.js';

const FLUSH_AT = 1 << 16;

export class JsonlWriter {
  private parts: (string | Uint8Array)[] = [];
  private hasBytes = false;
  private size = 0;
  private failed: Error | null = null;
  lines = 0;

  private constructor(
    private readonly out: Writable,
    private readonly sink: Writable,
    /** The output file (undefined for stdout): temporary or in place, see cli/output-file. */
    private readonly file: OutputFile | undefined,
  ) {
    sink.on('error', (e) => (this.failed = e));
    if (out !== sink) out.on('error', (e) => (this.failed = e));
  }

  /** `path` undefined or "-" writes stdout. A path ending in ".gz" is gzip-compressed. */
  static open(path?: string): JsonlWriter {
    if (!path || path === '-') return new JsonlWriter(process.stdout, process.stdout, undefined);
    const f = OutputFile.begin(path);
    const file = createWriteStream(f.writePath, { flags: f.flags });
    if (path.endsWith('.gz')) {
      const gz = createGzip();
      gz.pipe(file);
      return new JsonlWriter(gz, file, f);
    }
    return new JsonlWriter(file, file, f);
  }

  /** Write one line (no trailing newline). Await the result: it resolves at once unless the consumer is slow. */
  write(line: string): Promise<void> | undefined {
    this.parts.push(line, '\n');
    this.size += line.length + 1;
    this.lines++;
    return this.size >= FLUSH_AT ? this.flush() : undefined;
  }

  /**
   * Write whole lines already encoded as UTF-8, each ending in "\n" (input lines copied byte for byte).
   * The writer keeps `lines` until it is flushed: pass a buffer that is not reused.
   */
  writeBytes(lines: Uint8Array, count: number): Promise<void> | undefined {
    this.lines += count;
    if (!lines.length) return undefined;
    this.parts.push(lines);
    this.hasBytes = true;
    this.size += lines.length;
    return this.size >= FLUSH_AT ? this.flush() : undefined;
  }

  writeJson(value: Json | object): Promise<void> | undefined {
    return this.write(JSON.stringify(value));
  }

  /** Write a record, unchanged or with fields added or replaced (see withFields). */
  writeRecord(rec: JsonlRecord, fields?: Record<string, Json | undefined>): Promise<void> | undefined {
    return this.write(fields ? withFields(rec, fields) : rec.raw);
  }

  async flush(): Promise<void> {
    if (this.failed) throw this.ioError(this.failed);
    if (!this.size) return;
    const parts = this.parts;
    const hasBytes = this.hasBytes;
    this.parts = [];
    this.hasBytes = false;
    this.size = 0;
    if (!(hasBytes ? this.writeParts(parts) : this.out.write((parts as string[]).join('')))) {
      // Both listeners are removed once either fires, or every slow-consumer flush would leak one.
      const ac = new AbortController();
      try {
        await Promise.race([once(this.out, 'drain', { signal: ac.signal }), once(this.out, 'error', { signal: ac.signal })]);
      } catch (e) {
        throw this.ioError(e as Error);
      } finally {
        ac.abort();
      }
    }
    if (this.failed) throw this.ioError(this.failed);
  }

  /**
   * Byte parts (views of input blocks, mostly) are written as they are, not joined into a copy: corked, so a
   * stream that can write them in one writev does. Runs of strings between them are joined. Whether the
   * stream is under its high-water mark afterwards, as write() says.
   */
  private writeParts(parts: (string | Uint8Array)[]): boolean {
    if (parts.length === 1) return this.out.write(parts[0]);
    let ok = true;
    let text = '';
    this.out.cork();
    for (const p of parts) {
      if (typeof p === 'string') text += p;
      else {
        if (text) ok = this.out.write(text);
        text = '';
        ok = this.out.write(p);
      }
    }
    if (text) ok = this.out.write(text);
    this.out.uncork();
    return ok;
  }

  /** Flush, close, and (for files) move the finished file into place. */
  async close(): Promise<void> {
    await this.flush();
    if (!this.file) return;
    const done = once(this.sink, 'close');
    this.out.end();
    // An open or write error (missing directory, full disk) arrives as the stream's 'error' event.
    await done.catch((e: Error) => Promise.reject(this.ioError(e)));
    if (this.failed) throw this.ioError(this.failed);
    this.file.commit();
  }

  /** Give up: remove the temporary file. */
  abort(): void {
    if (!this.file) return;
    this.out.destroy();
    if (this.sink !== this.out) this.sink.destroy();
    this.file.abort();
  }

  private ioError(e: Error): Error {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return e; // handled as a quiet exit by the CLI
    return new IoError(`cannot write ${this.file?.path ?? 'stdout'}: ${systemReason(e)}`);
  }
}

/**
 * Open a writer, run `body` with it, and close it; if anything throws, the partial output is removed
 * (files are written under a temporary name) and the error goes on. The usual shape of a stage's output.
 */
export async function withWriter<T>(path: string | undefined, body: (out: JsonlWriter) => Promise<T>): Promise<T> {
  const out = JsonlWriter.open(path);
  try {
    const result = await body(out);
    await out.close();
    return result;
  } catch (e) {
    out.abort();
    throw e;
  }
}

/** withWriter for a side output that may not be asked for (no path: body gets undefined). */
export async function withOptionalWriter<T>(path: string | undefined | null, body: (out: JsonlWriter | undefined) => Promise<T>): Promise<T> {
  return path ? withWriter(path, body) : body(undefined);
}

/**
 * The record's line with fields added. New fields are spliced into the original text so every other
 * byte is kept; only when a field already exists is the record re-serialised (JSON.stringify).
 * A field set to undefined is removed.
 */
export function withFields(rec: JsonlRecord, fields: Record<string, Json | undefined>): string {
  const keys = Object.keys(fields);
  const replacing = keys.some((k) => Object.prototype.hasOwnProperty.call(rec.value, k));
  if (!replacing) {
    const end = rec.raw.lastIndexOf('}');
    let add = '';
    for (const k of keys) {
      const v = fields[k];
      if (v === undefined) continue;
      add += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
    }
    if (!add) return rec.raw;
    const empty = Object.keys(rec.value).length === 0;
    return rec.raw.slice(0, end) + (empty ? add.slice(1) : add) + rec.raw.slice(end);
  }
  const merged: Record<string, unknown> = { ...rec.value };
  for (const k of keys) {
    if (fields[k] === undefined) delete merged[k];
    else merged[k] = fields[k];
  }
  return JSON.stringify(merged);
}
