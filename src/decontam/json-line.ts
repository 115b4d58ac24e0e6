// One JSONL line checked and searched at the byte level, for the scan's fast path (block-scan.ts): is it
// a JSON object that JSON.parse would accept, in valid UTF-8, and what is the string value of its
// top-level text field, decoded to UTF-16 code units? No JS object or string is built. Anything this
// does not answer with certainty (a key written with escapes, nesting deeper than MAX_DEPTH, invalid
// JSON or UTF-8, a field that is missing or not a string) is left to JSON.parse, which then gives the
// usual error or skip.

const MAX_DEPTH = 256;
const OBJ = 1;
const ARR = 2;
const stack = new Uint8Array(MAX_DEPTH + 1);

/** The decoded text field of the last line found (units 0..textLength of the buffer given to findText). */
export const found = { length: 0, nonAscii: false };

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX[0x41 + c] = HEX[0x61 + c] = 10 + c;

// What each byte after a backslash stands for (0: not a JSON escape; "u" is handled apart).
const ESCAPE = new Uint16Array(256);
ESCAPE[0x22] = 0x22;
ESCAPE[0x5c] = 0x5c;
ESCAPE[0x2f] = 0x2f;
ESCAPE[0x62] = 0x08;
ESCAPE[0x66] = 0x0c;
ESCAPE[0x6e] = 0x0a;
ESCAPE[0x72] = 0x0d;
ESCAPE[0x74] = 0x09;

const isWs = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * Length of the UTF-8 sequence starting at buf[i] (a byte >= 0x80) if it is one the WHATWG decoder
 * accepts (no overlong forms, surrogates or code points past U+10FFFF) and ends before e, else 0.
 */
const cont = (buf: Uint8Array, j: number, e: number) => j < e && (buf[j] & 0xc0) === 0x80;
const digit = (buf: Uint8Array, j: number, e: number) => j < e && buf[j] >= 0x30 && buf[j] <= 0x39;

function utf8Length(buf: Uint8Array, i: number, e: number): number {
  const c = buf[i];
  if (c >= 0xc2 && c <= 0xdf) return cont(buf, i + 1, e) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const d = buf[i + 1];
    if (i + 1 >= e || (c === 0xe0 ? d < 0xa0 || d > 0xbf : c === 0xed ? d < 0x80 || d > 0x9f : (d & 0xc0) !== 0x80)) return 0;
    return cont(buf, i + 2, e) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const d = buf[i + 1];
    if (i + 1 >= e || (c === 0xf0 ? d < 0x90 || d > 0xbf : c === 0xf4 ? d < 0x80 || d > 0x8f : (d & 0xc0) !== 0x80)) return 0;
    return cont(buf, i + 2, e) && cont(buf, i + 3, e) ? 4 : 0;
  }
  return 0;
}

/** The 4 hex digits at buf[i], or -1. */
function hex4(buf: Uint8Array, i: number, e: number): number {
  if (i + 4 > e) return -1;
  const v = (HEX[buf[i]] << 12) | (HEX[buf[i + 1]] << 8) | (HEX[buf[i + 2]] << 4) | HEX[buf[i + 3]];
  return v < 0 ? -1 : v;
}

/** Skip the string whose opening quote is at buf[i]; returns the index after its closing quote, or -1. */
function skipString(buf: Uint8Array, i: number, e: number): number {
  for (i++; i < e; ) {
    const c = buf[i];
    if (c === 0x22) return i + 1;
    if (c >= 0x20 && c < 0x80 && c !== 0x5c) {
      i++;
      continue;
    }
    if (c === 0x5c) {
      const d = buf[i + 1];
      if (i + 1 < e && ESCAPE[d] !== 0) i += 2;
      else if (d === 0x75 && hex4(buf, i + 2, e) >= 0) i += 6;
      else return -1;
      continue;
    }
    if (c < 0x20) return -1;
    const n = utf8Length(buf, i, e);
    if (n === 0) return -1;
    i += n;
  }
  return -1;
}

/**
 * Decode the string whose opening quote is at buf[i] into out (room for its byte length + 1 units),
 * setting found.length and found.nonAscii; returns the index after the closing quote, or -1.
 */
function decodeString(buf: Uint8Array, i: number, e: number, out: Uint16Array): number {
  let n = 0;
  let high = 0; // any unit >= 0x80 seen (ORed)
  for (i++; i < e; ) {
    const c = buf[i];
    if (c === 0x22) {
      found.length = n;
      found.nonAscii = high >= 0x80;
      return i + 1;
    }
    if (c >= 0x20 && c < 0x80 && c !== 0x5c) {
      out[n++] = c;
      i++;
      continue;
    }
    if (c === 0x5c) {
      const d = buf[i + 1];
      const esc = i + 1 < e ? ESCAPE[d] : 0;
      if (esc !== 0) {
        out[n++] = esc;
        i += 2;
        continue;
      }
      const v = d === 0x75 ? hex4(buf, i + 2, e) : -1;
      if (v < 0) return -1;
      out[n++] = v;
      high |= v;
      i += 6;
      continue;
    }
    if (c < 0x20) return -1;
    const len = utf8Length(buf, i, e);
    if (len === 0) return -1;
    high |= 0x80;
    if (len === 2) out[n++] = ((c & 0x1f) << 6) | (buf[i + 1] & 0x3f);
    else if (len === 3) out[n++] = ((c & 0x0f) << 12) | ((buf[i + 1] & 0x3f) << 6) | (buf[i + 2] & 0x3f);
    else {
      const cp = (((c & 0x07) << 18) | ((buf[i + 1] & 0x3f) << 12) | ((buf[i + 2] & 0x3f) << 6) | (buf[i + 3] & 0x3f)) - 0x10000;
      out[n++] = 0xd800 + (cp >> 10);
      out[n++] = 0xdc00 + (cp & 0x3ff);
    }
    i += len;
  }
  return -1;
}

/** Skip a JSON number at buf[i] (JSON's grammar, which JSON.parse follows); returns the index after it, or -1. */
function skipNumber(buf: Uint8Array, i: number, e: number): number {
  if (buf[i] === 0x2d) i++;
  if (!digit(buf, i, e)) return -1;
  if (buf[i] === 0x30) i++;
  else while (digit(buf, i, e)) i++;
  if (i < e && buf[i] === 0x2e) {
    if (!digit(buf, ++i, e)) return -1;
    while (digit(buf, i, e)) i++;
  }
  if (i < e && (buf[i] | 0x20) === 0x65) {
    i++;
    if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
    if (!digit(buf, i, e)) return -1;
    while (digit(buf, i, e)) i++;
  }
  return i;
}

function skipLiteral(buf: Uint8Array, i: number, e: number): number {
  const c = buf[i];
  const word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
  if (i + word.length > e) return -1;
  for (let k = 1; k < word.length; k++) if (buf[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/**
 * Check that buf[s, e) is one JSON object (surrounding JSON whitespace allowed) in valid UTF-8 and
 * decode the string value of its top-level `key` (UTF-8 bytes; the last occurrence, as JSON.parse
 * keeps) into `out`, which needs room for e - s + 1 units. Returns true when that worked (see `found`),
 * false for anything to leave to JSON.parse.
 */
export function findText(buf: Uint8Array, s: number, e: number, key: Uint8Array, out: Uint16Array): boolean {
  let i = s;
  while (i < e && isWs(buf[i])) i++;
  if (buf[i] !== 0x7b) return false;
  let depth = 0;
  let ok = false; // the key was found, its value a string
  let expectKey = true; // in an object: a key comes next (else a value)
  stack[depth++] = OBJ;
  i++;
  while (i < e && isWs(buf[i])) i++;
  if (buf[i] === 0x7d) return false; // {}: no text field
  for (;;) {
    if (i >= e) return false;
    let c = buf[i];
    let isKey = false;
    if (expectKey) {
      // A key, then ":".
      if (c !== 0x22) return false;
      const k0 = i + 1;
      i = skipString(buf, i, e);
      if (i < 0) return false;
      const k1 = i - 1;
      isKey = depth === 1 && k1 - k0 === key.length;
      if (isKey) for (let k = 0; k < key.length; k++) if (buf[k0 + k] !== key[k]) isKey = false;
      // A top-level key with escapes may spell the field: JSON.parse decides.
      if (depth === 1 && !isKey) for (let k = k0; k < k1; k++) if (buf[k] === 0x5c) return false;
      while (i < e && isWs(buf[i])) i++;
      if (buf[i] !== 0x3a) return false;
      i++;
      while (i < e && isWs(buf[i])) i++;
      if (i >= e) return false;
      c = buf[i];
    }
    // A value.
    if (c === 0x22) {
      if (isKey) {
        i = decodeString(buf, i, e, out);
        ok = true;
      } else i = skipString(buf, i, e);
    } else {
      if (isKey) ok = false;
      if (c === 0x7b || c === 0x5b) {
        if (depth === MAX_DEPTH) return false;
        stack[depth++] = c === 0x7b ? OBJ : ARR;
        i++;
        while (i < e && isWs(buf[i])) i++;
        if (buf[i] === (c === 0x7b ? 0x7d : 0x5d)) {
          depth--;
          i++;
        } else {
          expectKey = c === 0x7b;
          continue;
        }
      } else if (c === 0x74 || c === 0x66 || c === 0x6e) i = skipLiteral(buf, i, e);
      else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) i = skipNumber(buf, i, e);
      else return false;
    }
    if (i < 0) return false;
    // After a value: "," or the end of its container(s).
    for (;;) {
      while (i < e && isWs(buf[i])) i++;
      if (i >= e) return false;
      const d = buf[i++];
      const top = stack[depth - 1];
      if (d === 0x2c) {
        while (i < e && isWs(buf[i])) i++;
        expectKey = top === OBJ;
        break;
      }
      if (d !== (top === OBJ ? 0x7d : 0x5d)) return false;
      if (--depth === 0) {
        while (i < e && isWs(buf[i])) i++;
        return i === e && ok;
      }
    }
  }
}
