// A set of 64-bit n-gram keys, each mapped to the benchmark text it came from. Open addressing with
// linear probing over three flat typed arrays (key halves and value), so millions of keys cost 12 bytes
// a slot, nothing for the garbage collector to walk, and the arrays can be written to and read from
// an index file as they are. Value -1 marks an empty slot.

// Lookups are screened by the word-pair filter first (ngram-index.ts), so a fuller table costs little
// time and saves memory and index-file size.
const MAX_LOAD = 0.7;

export class GramTable {
  keysA: Uint32Array;
  keysB: Uint32Array;
  vals: Int32Array;
  size = 0;
  private mask: number;
  private shift: number;

  constructor(bits = 10, arrays?: { keysA: Uint32Array; keysB: Uint32Array; vals: Int32Array; size: number }) {
    if (arrays) {
      this.keysA = arrays.keysA;
      this.keysB = arrays.keysB;
      this.vals = arrays.vals;
      this.size = arrays.size;
    } else {
      const slots = 1 << bits;
      this.keysA = new Uint32Array(slots);
      this.keysB = new Uint32Array(slots);
      this.vals = new Int32Array(slots).fill(-1);
    }
    this.mask = this.vals.length - 1;
    this.shift = 32 - Math.log2(this.vals.length);
  }

  get bits(): number {
    return 32 - this.shift;
  }

  /** The value stored for the key, or -1. */
  get(a: number, b: number): number {
    const keysA = this.keysA;
    const vals = this.vals;
    let i = Math.imul(a, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const v = vals[i];
      if (v === -1) return -1;
      if (keysA[i] === a && this.keysB[i] === b) return v;
      i = (i + 1) & this.mask;
    }
  }

  /** Insert unless present; returns false when the key was already there (the first value is kept). */
  add(a: number, b: number, value: number): boolean {
    if ((this.size + 1) > this.vals.length * MAX_LOAD) this.rehash();
    let i = Math.imul(a, 0x9e3779b1) >>> this.shift;
    for (;;) {
      if (this.vals[i] === -1) {
        this.keysA[i] = a;
        this.keysB[i] = b;
        this.vals[i] = value;
        this.size++;
        return true;
      }
      if (this.keysA[i] === a && this.keysB[i] === b) return false;
      i = (i + 1) & this.mask;
    }
  }

  private rehash(): void {
    const { keysA, keysB, vals } = this;
    const slots = vals.length * 2;
    this.keysA = new Uint32Array(slots);
    this.keysB = new Uint32Array(slots);
    this.vals = new Int32Array(slots).fill(-1);
    this.mask = slots - 1;
    this.shift--;
    this.size = 0;
    for (let i = 0; i < vals.length; i++) if (vals[i] !== -1) this.add(keysA[i], keysB[i], vals[i]);
  }
}
