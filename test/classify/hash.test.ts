import t from 'tap';
import { addWordNgrams, fnv1a, fnv1aBytes, ngramHashBig } from '../../src/classify/hash.js';
import { tokenize, normalizeText } from '../../src/classify/normalize.js';
import { MinStd } from '../../src/classify/sgd.js';

/** fastText's hash written out with BigInt: FNV-1a where each byte is sign-extended (char is signed). */
function referenceHash(bytes: Uint8Array): number {
  let h = 2166136261n;
  for (const b of bytes) {
    const c = BigInt.asUintN(32, BigInt((b << 24) >> 24));
    h = ((h ^ c) * 16777619n) & 0xffffffffn;
  }
  return Number(h);
}

t.test('FNV-1a matches the standard vectors on ASCII', async (t) => {
  t.equal(fnv1a(''), 0x811c9dc5);
  t.equal(fnv1a('a'), 0xe40c292c);
  t.equal(fnv1a('foobar'), 0xbf9cf968);
  t.equal(fnv1a('</s>'), referenceHash(Buffer.from('</s>')));
});

t.test('non-ASCII bytes are sign-extended, as fastText hashes them', async (t) => {
  for (const s of ['é', 'ℝ', '∑x', '数学', '😀', 'naïve', '__label__μ']) {
    const bytes = Buffer.from(s, 'utf8');
    t.equal(fnv1a(s), referenceHash(bytes), s);
    t.equal(fnv1aBytes(bytes), referenceHash(bytes), `${s} (bytes)`);
  }
  // the signed and unsigned readings really differ: the test would catch an unsigned implementation
  let unsigned = 2166136261;
  for (const b of Buffer.from('é')) unsigned = Math.imul(unsigned ^ b, 16777619) >>> 0;
  t.not(fnv1a('é'), unsigned);
});

t.test('word n-gram hashing equals 64-bit arithmetic done in BigInt', async (t) => {
  const rng = new MinStd(42);
  for (const bucket of [1, 7, 1000, 2000000, 2147483647]) {
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + rng.below(12);
      const hashes = Array.from({ length: n }, () => (rng.next() * 2 + rng.below(2)) >>> 0);
      hashes.push(0xffffffff, 0x80000000, 0);
      for (const wordNgrams of [2, 3, 5]) {
        const out = new Int32Array(hashes.length * wordNgrams);
        const len = addWordNgrams(hashes, hashes.length, wordNgrams, bucket, 10, out, 0);
        const want = ngramHashBig(hashes, wordNgrams, bucket).map((h) => Number(h) + 10);
        t.same(Array.from(out.subarray(0, len)), want, `bucket ${bucket} n ${wordNgrams}`);
      }
    }
  }
});

t.test('no n-grams without buckets or with wordNgrams 1', async (t) => {
  const out = new Int32Array(8);
  t.equal(addWordNgrams([1, 2, 3], 3, 1, 100, 0, out, 0), 0);
  t.equal(addWordNgrams([1, 2, 3], 3, 2, 0, 0, out, 0), 0);
});

t.test('web normalisation: math stays visible, labels cannot be forged, idempotent', async (t) => {
  t.same(tokenize('Let $x^2+1=0$ in \\mathbb{R}.', 'web'), ['let', '$', 'x', '^', '2', '+', '1', '=', '0', '$', 'in', '\\mathbb', '{', 'r', '}', '.']);
  t.same(tokenize('__label__math spam', 'web').slice(0, 3), ['_', '_', 'label']);
  const s = 'Ünïcode  TEXT\twith\nnew lines, ∑ and 数学!';
  t.equal(normalizeText(normalizeText(s, 'web'), 'web'), normalizeText(s, 'web'));
  t.same(tokenize(' a\u00a0b\tc\n\vd\f\re\0f ', 'none'), ['a\u00a0b', 'c', 'd', 'e', 'f'], 'none splits on fastText whitespace only');
  t.same(tokenize('   ', 'none'), []);
});
