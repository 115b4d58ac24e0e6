// The HTTP response inside a WARC `response` record: status, headers, and the payload with chunked
// transfer coding and gzip/deflate/br content coding undone (crawlers often store bytes as they came).
import { brotliDecompressSync, gunzipSync, inflateSync, inflateRawSync } from 'node:zlib';
import { kMaxLength } from 'node:buffer';
import { parseHeaderLines, type WarcHeaders } from './warc.js';

export interface HttpResponse {
  status: number;
  headers: WarcHeaders;
  body: Buffer;
}

/** A payload whose content coding expands past the cap (a decompression bomb, or simply too big). */
export class BodyTooLarge extends Error {}

/**
 * Parse an HTTP/1.x response block; undefined when the block is not one. A body that decodes to more
 * than `maxBody` bytes throws BodyTooLarge: a few KB of gzip or brotli can expand to gigabytes.
 */
export function parseHttpResponse(block: Buffer, maxBody = kMaxLength): HttpResponse | undefined {
  let end = block.indexOf('\r\n\r\n');
  let skip = 4;
  const lf = block.indexOf('\n\n');
  if (lf >= 0 && (end < 0 || lf < end)) {
    end = lf;
    skip = 2;
  }
  if (end < 0) end = block.length;
  const head = block.toString('latin1', 0, end);
  const m = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(head);
  if (!m) return undefined;
  const nl = head.indexOf('\n');
  const headers = parseHeaderLines(nl < 0 ? '' : head.slice(nl + 1));
  let body = block.subarray(Math.min(block.length, end + skip));
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) body = dechunk(body) ?? body;
  body = decodeContent(body, headers.get('content-encoding'), Math.min(maxBody, kMaxLength));
  return { status: Number(m[1]), headers, body };
}

/** Undo chunked transfer coding; undefined when the data is not validly chunked (many archives store it decoded). */
export function dechunk(b: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let p = 0;
  for (;;) {
    const nl = b.indexOf('\r\n', p);
    if (nl < 0) return parts.length ? Buffer.concat(parts) : undefined;
    const size = parseInt(b.toString('latin1', p, nl).split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    const s = nl + 2;
    parts.push(b.subarray(s, Math.min(b.length, s + size)));
    if (s + size >= b.length) return Buffer.concat(parts);
    p = s + size + 2;
  }
}

function decodeContent(body: Buffer, enc: string | undefined, maxOutputLength: number): Buffer {
  const e = (enc ?? '').trim().toLowerCase();
  if (!e || e === 'identity' || body.length === 0) return body;
  // zlib stops at maxOutputLength with ERR_BUFFER_TOO_LARGE, so a bomb never gets allocated.
  const opts = { finishFlush: 2, maxOutputLength };
  const tooLarge = (x: unknown) => (x as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
  try {
    if ((e === 'gzip' || e === 'x-gzip') && body[0] === 0x1f && body[1] === 0x8b) return gunzipSync(body, opts);
    if (e === 'deflate') {
      try {
        return inflateSync(body, opts);
      } catch (x) {
        if (tooLarge(x)) throw x;
        return inflateRawSync(body, opts);
      }
    }
    if (e === 'br') return brotliDecompressSync(body, { maxOutputLength });
  } catch (x) {
    if (tooLarge(x)) throw new BodyTooLarge(`record too large: its HTTP body (Content-Encoding: ${e}) decodes to more than --max-record-size ${maxOutputLength} bytes`);
    // Archives frequently store the payload already decoded while keeping the header: use the bytes as they are.
  }
  return body;
}
