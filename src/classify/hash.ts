// fastText's hashing, bit for bit. Model rows are addressed by these hashes, so a model trained by
// `fasttext` only predicts the same here if every detail matches: FNV-1a over the UTF-8 bytes read as
// *signed* chars (bytes >= 0x80 are sign-extended before the xor), and word n-grams combined in
// unsigned 64-bit arithmetic from the 32-bit hashes *sign-extended* to 64 bits (fastText keeps them in an
// int32 vector), reduced modulo the bucket count.

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;
const NGRAM_MUL = 116049371;

function mix(h: number, byte: number): number {
  // (int8_t)byte widened to uint32: 0xFFFFFF80..0xFFFFFFFF for bytes >= 0x80.
  const b = byte >= 0x80 ? byte | 0xffffff00 : byte;
  return Math.imul(h ^ b, FNV_PRIME);
}

/** fastText's Dictionary::hash of a string (as uint32), encoding it to UTF-8 on the fly. */
export function fnv1a(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = mix(h, c);
      continue;
    }
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x800) {
      h = mix(h, 0xc0 | (c >> 6));
    } else if (c < 0x10000) {
      h = mix(h, 0xe0 | (c >> 12));
      h = mix(h, 0x80 | ((c >> 6) & 0x3f));
    } else {
      h = mix(h, 0xf0 | (c >> 18));
      h = mix(h, 0x80 | ((c >> 12) & 0x3f));
      h = mix(h, 0x80 | ((c >> 6) & 0x3f));
    }
    h = mix(h, 0x80 | (c & 0x3f));
  }
  return h >>> 0;
}

/** FNV-1a over raw bytes (used by tests against byte vectors, and for tokens that are not valid text). */
export function fnv1aBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = mix(h, bytes[i]);
  return h >>> 0;
}

const TWO32 = 4294967296;
const INV16 = 1 / 65536;

/** (hi * 2^32 + lo) mod m for m < 2^31, exactly, in double arithmetic (every product stays below 2^53). */
function mod64(hi: number, lo: number, m: number): number {
  let r = hi % m;
  r = (r * 65536) % m;
  r = (r * 65536) % m;
  return (r + (lo % m)) % m;
}

/**
 * Append the word n-gram rows of one line to `out` (fastText's Dictionary::addWordNgrams): for each
 * start i and each n up to `n`, h = h * 116049371 + hash[j] over uint64, row = nwords + h % bucket.
 * `hashes` holds the uint32 token hashes; the sign extension fastText applies is done here.
 * Returns the new length of `out`.
 */
export function addWordNgrams(
  hashes: ArrayLike<number>,
  count: number,
  n: number,
  bucket: number,
  nwords: number,
  out: Int32Array,
  len: number,
  prune?: Map<number, number>,
): number {
  if (bucket <= 0 || n <= 1) return len;
  // (hi * 2^32 + lo) mod b as ((hi mod b) * (2^32 mod b) + lo) mod b: exact in doubles while b < 2^26.
  // Remainders use a reciprocal and one correction step: much faster than the % of doubles (fmod).
  const small = bucket < 1 << 26;
  const c32 = TWO32 % bucket;
  const inv = 1 / bucket;
  const mod = (x: number) => {
    let r = x - Math.floor(x * inv) * bucket;
    if (r < 0) r += bucket;
    else if (r >= bucket) r -= bucket;
    return r;
  };
  for (let i = 0; i < count; i++) {
    const h0 = hashes[i];
    // sign-extend the int32 view of the hash to 64 bits
    let hi = h0 >= 0x80000000 ? 0xffffffff : 0;
    let lo = h0;
    const jEnd = Math.min(count, i + n);
    for (let j = i + 1; j < jEnd; j++) {
      // (hi, lo) = (hi, lo) * NGRAM_MUL + signExtend(hash[j]), modulo 2^64; ">>> 0" is exact mod 2^32
      const a = lo >>> 16;
      const b = lo & 0xffff;
      const carry = Math.floor((a * NGRAM_MUL + Math.floor(b * NGRAM_MUL * INV16)) * INV16);
      const hj = hashes[j];
      const sum = (Math.imul(lo, NGRAM_MUL) >>> 0) + hj;
      lo = sum >>> 0;
      hi = (Math.imul(hi, NGRAM_MUL) + carry + (sum >= TWO32 ? 1 : 0) + (hj >= 0x80000000 ? 0xffffffff : 0)) >>> 0;
      let id = small ? mod(mod(hi) * c32 + lo) : mod64(hi, lo, bucket);
      if (prune) {
        const p = prune.get(id);
        if (p === undefined) continue;
        id = p;
      }
      out[len++] = nwords + id;
    }
  }
  return len;
}

/** The same computation in BigInt, for tests: the slow, obviously-correct statement of the rule. */
export function ngramHashBig(hashes: number[], n: number, bucket: number): bigint[] {
  const M = (1n << 64n) - 1n;
  const ext = (h: number) => BigInt.asUintN(64, BigInt(h | 0));
  const out: bigint[] = [];
  for (let i = 0; i < hashes.length; i++) {
    let h = ext(hashes[i]);
    for (let j = i + 1; j < hashes.length && j < i + n; j++) {
      h = (h * BigInt(NGRAM_MUL) + ext(hashes[j])) & M;
      out.push(h % BigInt(bucket));
    }
  }
  return out;
}
