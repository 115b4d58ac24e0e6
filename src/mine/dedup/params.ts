// The permutation parameters of datatrove's MinHash: numpy's legacy RandomState(seed) drawing
// randint(1, P, uint64, size=k) for a, then randint(0, P, uint64, size=k) for b, with P = 2^61 - 1.
// Reproduced bit for bit (MT19937 seeded by init_genrand, 64-bit draws as two 32-bit outputs high
// word first, masked rejection sampling) so that signatures equal datatrove's for the same seed.

export const MERSENNE_61 = (1n << 61n) - 1n;

/** MT19937 as numpy's legacy seeding uses it (mt19937_seed = init_genrand). */
class Mt19937 {
  private readonly mt = new Uint32Array(624);
  private pos = 624;

  constructor(seed: number) {
    let s = seed >>> 0;
    for (let i = 0; i < 624; i++) {
      this.mt[i] = s;
      s = (Math.imul(1812433253, s ^ (s >>> 30)) + i + 1) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % 624]! & 0x7fffffff);
      mt[i] = mt[(i + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.pos = 0;
  }

  next32(): number {
    if (this.pos >= 624) this.twist();
    let y = this.mt[this.pos++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  next64(): bigint {
    const hi = BigInt(this.next32());
    return (hi << 32n) | BigInt(this.next32());
  }
}

/** numpy's bounded_masked_uint64: draws below the next power of two, rejecting those above the range. */
function randint(g: Mt19937, low: bigint, high: bigint, n: number): bigint[] {
  const rng = high - 1n - low;
  let mask = rng;
  for (const s of [1n, 2n, 4n, 8n, 16n, 32n]) mask |= mask >> s;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    let v: bigint;
    do v = g.next64() & mask;
    while (v > rng);
    out.push(low + v);
  }
  return out;
}

export interface PermParams {
  a: BigUint64Array;
  b: BigUint64Array;
}

/** k permutations (a, b) as datatrove draws them for `seed`. */
export function permParams(k: number, seed: number): PermParams {
  const g = new Mt19937(seed);
  const a = randint(g, 1n, MERSENNE_61, k);
  const b = randint(g, 0n, MERSENNE_61, k);
  return { a: BigUint64Array.from(a), b: BigUint64Array.from(b) };
}
