// Candidate pairs from LSH bands: documents whose keys are equal in some band. Each band's keys are
// sorted (LSD radix sort on the 64-bit key, 16 bits a pass: linear time, no comparator calls) and each
// run of equal keys pairs its first document with every other one (a star: union-find needs no more).

/** Document order by (hi, lo) u32 key. Stable, so equal keys keep document order. */
export function radixOrder(lo: Uint32Array, hi: Uint32Array, n: number): Uint32Array {
  let order = new Uint32Array(n);
  let tmp = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const count = new Uint32Array(65537);
  for (const [src, shift] of [[lo, 0], [lo, 16], [hi, 0], [hi, 16]] as const) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[((src[i]! >>> shift) & 0xffff) + 1]!++;
    for (let d = 1; d <= 65536; d++) count[d]! += count[d - 1]!;
    for (let i = 0; i < n; i++) {
      const j = order[i]!;
      tmp[count[(src[j]! >>> shift) & 0xffff]!++] = j;
    }
    [order, tmp] = [tmp, order];
  }
  return order;
}

/** A growable list of (a, b) document pairs. */
export class Pairs {
  a = new Uint32Array(1024);
  b = new Uint32Array(1024);
  n = 0;

  push(x: number, y: number): void {
    if (this.n === this.a.length) {
      const a = new Uint32Array(this.n * 2);
      a.set(this.a);
      this.a = a;
      const b = new Uint32Array(this.n * 2);
      b.set(this.b);
      this.b = b;
    }
    this.a[this.n] = x;
    this.b[this.n++] = y;
  }
}

/**
 * Pairs of documents sharing the key of one band. `ids[i]` names entry i (a document number), `lo`/`hi`
 * hold its key; entries are in document order, so the star's centre is the earliest document.
 */
export function bandPairs(ids: Uint32Array, lo: Uint32Array, hi: Uint32Array, n: number, out: Pairs): void {
  const order = radixOrder(lo, hi, n);
  for (let s = 0; s < n; ) {
    const c = order[s]!;
    let e = s + 1;
    while (e < n && lo[order[e]!] === lo[c] && hi[order[e]!] === hi[c]) out.push(ids[c]!, ids[order[e++]!]!);
    s = e;
  }
}

/** The column of one band from a DocTable-style key array (docs with a signature only). */
export function bandColumn(keys: Uint32Array, sig: Uint8Array, n: number, bands: number, band: number, base = 0) {
  let m = 0;
  for (let d = 0; d < n; d++) if (sig[d]) m++;
  const ids = new Uint32Array(m);
  const lo = new Uint32Array(m);
  const hi = new Uint32Array(m);
  let i = 0;
  for (let d = 0; d < n; d++) {
    if (!sig[d]) continue;
    const k = (d * bands + band) * 2;
    ids[i] = base + d;
    lo[i] = keys[k]!;
    hi[i++] = keys[k + 1]!;
  }
  return { ids, lo, hi, n: m };
}

/** Documents sharing a normalised URL hash, as pairs (earliest document first). */
export function urlPairs(url: Uint32Array, n: number, out: Pairs, base = 0): void {
  const lo = new Uint32Array(n);
  const hi = new Uint32Array(n);
  const ids = new Uint32Array(n);
  let m = 0;
  for (let d = 0; d < n; d++) {
    if ((url[2 * d]! | url[2 * d + 1]!) === 0) continue;
    ids[m] = base + d;
    lo[m] = url[2 * d]!;
    hi[m++] = url[2 * d + 1]!;
  }
  bandPairs(ids, lo, hi, m, out);
}
