// Open a source as a stream of raw bytes: a local file (optionally one byte range of it), stdin, or HTTP.
import { createReadStream, statSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import { IoError } from '../cli/errors.js';
import { httpBytes, type RetryPolicy } from './fetch.js';
import type { Source } from './inputs.js';

async function* fileBytes(path: string, range: Source['range']): AsyncGenerator<Buffer> {
  const opts: { highWaterMark: number; start?: number; end?: number } = { highWaterMark: 1 << 20 };
  if (range) {
    opts.start = range.offset;
    if (range.length !== undefined) opts.end = range.offset + range.length - 1;
  }
  try {
    // A range that starts past the end would read nothing and "succeed" with no records; over HTTP the
    // server refuses it (416), so refuse it here too.
    if (range && range.offset >= statSync(path).size) {
      throw new IoError(`cannot read ${path}: byte range starts at ${range.offset}, past the end of the file (${statSync(path).size} bytes)`);
    }
    for await (const c of createReadStream(path, opts)) yield c as Buffer;
  } catch (e) {
    if (e instanceof IoError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new IoError(`cannot read ${path}: ${why}`);
  }
}

export interface HttpSetup {
  policy: RetryPolicy;
  dispatcher: () => Dispatcher;
}

/** The raw bytes of a source; `onBytes` counts them for progress and throughput. */
export async function* sourceBytes(src: Source, http: HttpSetup, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  const it =
    src.kind === 'url'
      ? httpBytes(src.name, http.policy, http.dispatcher(), src.range)
      : src.kind === 'stdin'
        ? (process.stdin as AsyncIterable<Buffer>)
        : fileBytes(src.name, src.range);
  for await (const c of it) {
    onBytes(c.length);
    yield c;
  }
}
