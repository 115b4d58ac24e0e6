// The HTTP response inside a WARC `response` record: status, headers, and the payload with chunked
// transfer coding and gzip/deflate/br content coding undone (crawlers often store bytes as they came).
import { brotliDecompressSync, gunzipSync, inflateSync, inflateRawSync } from 'node:zlib';
import { parseHeaderLines, type WarcHeaders } from './warc.js';

export interface HttpResponse {
  status: number;
  headers: WarcHeaders;
  body: Buffer;
}

/** Parse an HTTP/1.x response block; undefined when the block is not one. */
export function parseHttpResponse(block: Buffer): HttpResponse | undefined {
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
  body = decodeContent(body, headers.get('content-encoding'));
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

function decodeContent(body: Buffer, enc: string | undefined): Buffer {
  const e = (enc ?? '').trim().toLowerCase();
  if (!e || e === 'identity' || body.length === 0) return body;
  try {
    if ((e === 'gzip' || e === 'x-gzip') && body[0] === 0x1f && body[1] === 0x8b) return gunzipSync(body, { finishFlush: 2 });
    if (e === 'deflate') {
      try {
        return inflateSync(body, { finishFlush: 2 });
      } catch {
        return inflateRawSync(body, { finishFlush: 2 });
      }
    }
    if (e === 'br') return brotliDecompressSync(body);
  } catch {
    // Archives frequently store the payload already decoded while keeping the header: use the bytes as they are.
  }
  return body;
}
