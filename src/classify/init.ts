// fastText's DenseMatrix::uniform (every input weight uniform in [-1/dim, 1/dim)) from a counter-based
// generator: element i's value is a hash of (i, seed), so any split of the matrix between threads
// fills the same values, and the SIMD kernel (fill_uniform in wasm/kernels.wat) and the loop here give
// the same bits. fastText draws from one minstd stream per thread instead; only the distribution
// matters. Filling is the first touch of up to 2 GB, so its cost is mostly page faults.
const f = Math.fround;
const TWO32 = 4294967296;

/** Chris Wellons' lowbias32: a 32-bit integer hash with good avalanche. */
export function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** dst[k] = the value of element first + k (first < 2^32), as fill_uniform computes it. */
export function fillUniform(dst: Float32Array, first: number, seed: number, a: number): void {
  const fa = f(a);
  const mul = f(f(fa + fa) * 2 ** -24);
  for (let k = 0; k < dst.length; k++) dst[k] = f(f((hash32((first + k) ^ seed) >>> 8) * mul) - fa);
}

/**
 * Split elements [start, end) into runs that the generator takes in one call: each run has a 32-bit
 * first index and the seed of its 2^32-element block (matrices of more than 4G floats exist only on
 * the SharedArrayBuffer path).
 */
export function forEachRun(start: number, end: number, seed: number, fn: (at: number, n: number, first: number, seed: number) => void): void {
  for (let at = start; at < end; ) {
    const hi = Math.floor(at / TWO32);
    const n = Math.min(end, (hi + 1) * TWO32) - at;
    fn(at, n, at - hi * TWO32, hash32((seed + Math.imul(hi, 0x9e3779b9)) >>> 0) | 0);
    at += n;
  }
}
