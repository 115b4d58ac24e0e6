// A set of 64-bit n-gram keys, each mapped to the benchmark text it came from. Open addressing with
// linear probing over one flat Int32Array of 3-word slots [keyA, keyB, value]: a probe touches one
// cache line, millions of keys cost 12 bytes a slot and nothing for the garbage collector to walk, and
// the array is written to and read from an index file as it is. Value -1 marks an empty slot.

// Lookups are screened by the k-gram filter first (ngram-index.ts), so a fuller table costs little
// time and saves memory and index-file size.
const MAX_LOAD = 0.7;

export class GramTable {
  /** 3 int32 per slot: key A, key B, value. */
  slots: Int32Array;
  size = 0;
  private mask: number;
  private shift: number;

  constructor(bits = 10, stored?: { slots: Int32Array; size: number }) {
    if (stored) {
      this.slots = stored.slots;
      this.size = stored.size;
    } else {
      this.slots = new Int32Array(3 << bits).fill(-1);
    }
    const count = this.slots.length / 3;
    this.mask = count - 1;
    this.shift = 32 - Math.log2(count);
  }

  get bits(): number {
    return 32 - this.shift;
  }

  /** The value stored for the key (two uint32 halves), or -1. */
  get(a: number, b: number): number {
    const t = this.slots;
    const ka = a | 0;
    const kb = b | 0;
    let i = Math.imul(a, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const s = i * 3;
      const v = t[s + 2];
      if (v === -1) return -1;
      if (t[s] === ka && t[s + 1] === kb) return v;
      i = (i + 1) & this.mask;
    }
  }

  /** Insert unless present; returns false when the key was already there (the first value is kept). */
  add(a: number, b: number, value: number): boolean {
    if (this.size + 1 > (this.slots.length / 3) * MAX_LOAD) this.rehash();
    const t = this.slots;
    const ka = a | 0;
    const kb = b | 0;
    let i = Math.imul(a, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const s = i * 3;
      if (t[s + 2] === -1) {
        t[s] = ka;
        t[s + 1] = kb;
        t[s + 2] = value;
        this.size++;
        return true;
      }
      if (t[s] === ka && t[s + 1] === kb) return false;
      i = (i + 1) & this.mask;
    }
  }

  private rehash(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2).fill(-1);
    this.mask = this.mask * 2 + 1;
    this.shift--;
    this.size = 0;
    for (let s = 0; s < old.length; s += 3) if (old[s + 2] !== -1) this.add(old[s] >>> 0, old[s + 1] >>> 0, old[s + 2]);
  }
}
