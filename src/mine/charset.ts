// Bytes -> string for HTML: BOM, then the HTTP header's charset, then <meta charset> / http-equiv in the
// first 4 KiB, else UTF-8 (falling back to windows-1252 when the bytes are not UTF-8, as browsers do).
// Node's TextDecoder has full ICU, so gbk, euc-jp, shift_jis, windows-125x and the rest are decoded natively.

type Decoder = InstanceType<typeof TextDecoder>;

const decoders = new Map<string, Decoder | null>();

function decoderFor(label: string): Decoder | null {
  const key = label.trim().toLowerCase();
  let d = decoders.get(key);
  if (d === undefined) {
    try {
      d = new TextDecoder(key);
    } catch {
      d = null;
    }
    decoders.set(key, d);
  }
  return d;
}

/** The charset parameter of a Content-Type value ("text/html; charset=utf-8" -> "utf-8"). */
export function charsetFromContentType(ct: string | undefined): string | undefined {
  if (!ct) return undefined;
  const m = /charset\s*=\s*["']?([\w.:-]+)/i.exec(ct);
  return m?.[1];
}

const META = /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i;

export function charsetFromMeta(head: string): string | undefined {
  return META.exec(head)?.[1];
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextDecoder('utf-8');
const win1252 = new TextDecoder('windows-1252');

export interface Decoded {
  text: string;
  charset: string;
}

export function decodeHtml(body: Buffer, contentType: string | undefined): Decoded {
  if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return { text: utf8.decode(body.subarray(3)), charset: 'utf-8' };
  if (body.length >= 2 && body[0] === 0xff && body[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(body.subarray(2)), charset: 'utf-16le' };
  if (body.length >= 2 && body[0] === 0xfe && body[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(body.subarray(2)), charset: 'utf-16be' };
  const declared = charsetFromContentType(contentType) ?? charsetFromMeta(body.toString('latin1', 0, Math.min(body.length, 4096)));
  if (declared) {
    const d = decoderFor(declared);
    // utf-16 declared in a meta tag of an ASCII-compatible page is a known lie (the HTML spec says use utf-8).
    if (d && !/^utf-16/.test(d.encoding)) return { text: d.decode(body), charset: d.encoding };
  }
  try {
    return { text: utf8Fatal.decode(body), charset: 'utf-8' };
  } catch {
    return { text: win1252.decode(body), charset: 'windows-1252' };
  }
}
