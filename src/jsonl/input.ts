// Byte sources: a file or stdin ("-"), gunzipped when the data starts with the gzip magic
// (so `.gz` files, renamed files and gzipped stdin all work). Multi-member gzip is read whole.
import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { DataError, IoError } from '../cli/errors.js';
import { warn } from '../cli/log.js';

export const STDIN = '-';

export function displayName(path: string): string {
  return path === STDIN ? '<stdin>' : path;
}

/** Total size in bytes of the named files (compressed size for .gz), or undefined when stdin is among them. */
export function totalSize(paths: string[]): number | undefined {
  let n = 0;
  for (const p of paths) {
    if (p === STDIN) return undefined;
    try {
      n += statSync(p).size;
    } catch {
      return undefined;
    }
  }
  return n;
}

function openError(path: string, e: NodeJS.ErrnoException): IoError {
  const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
  return new IoError(`cannot read ${displayName(path)}: ${why}`);
}

async function* prepend(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}

/**
 * Yield the (decompressed) bytes of one input. `onRawBytes` reports bytes read from disk,
 * which is what a progress meter should compare with the file size.
 */
export async function* readBytes(path: string, onRawBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  // A command waiting silently on a terminal looks hung (typically: input files swallowed by an array
  // option such as --bench, without the closing --), so say what it is doing.
  if (path === STDIN && process.stdin.isTTY) warn('reading JSONL from the terminal (end with Ctrl-D); pass input files as arguments, after -- if an option takes a list');
  const src: Readable = path === STDIN ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first: IteratorResult<Buffer>;
  try {
    first = await it.next();
  } catch (e) {
    throw openError(path, e as NodeJS.ErrnoException);
  }
  if (first.done) return;
  const counted = (async function* () {
    for await (const b of prepend(first.value, it)) {
      onRawBytes?.(b.length);
      yield b;
    }
  })();
  const gz = first.value.length >= 2 && first.value[0] === 0x1f && first.value[1] === 0x8b;
  if (!gz) {
    yield* counted;
    return;
  }
  const gunzip = Readable.from(counted).pipe(createGunzip());
  try {
    for await (const b of gunzip) yield b as Buffer;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'Z_BUF_ERROR' || err.code === 'Z_DATA_ERROR' || /unexpected end/i.test(err.message)) {
      throw new DataError(displayName(path), `truncated or corrupt gzip data (${err.message})`);
    }
    throw err;
  }
}
