// Batch invariance of the decoding products. A sample's logits must not depend on which other sequences share
// its step. XNNPACK (tfjs-wasm's own products) and the cpu backend compute every row of A x W the same way
// whatever the row count (measured), but OpenBLAS does not: with 0.3.21's Zen kernels a row of a full tile is
// rounded differently from a row alone or in a partial tile, and which rows form full tiles depends on the row
// count and the thread split. In 6,240 greedy steps of the bench models, 33-65% of the steps had other log-prob
// bits at batch 3, 8 or 32 than at batch 1 (no token changed there; on the tiny test model tokens did).
//
// The fix for the tfjs ops path: decoding products run in calls of exactly G rows (the last one padded), so every
// call has one shape, and G is chosen such that a row's result does not depend on its place among the G. Which G
// qualifies depends on the BLAS build, the CPU and the thread count (on the development machine: 16 with 2
// threads, 8 with one), so it is measured once per model at start, on the model's own weights: a random block and
// the same block with its rows rotated must give the same rows. Larger groups cost fewer calls; 1 (one row per
// call) always qualifies.
//
// The direct decoder (src/sample/blas-decode.ts: wasm backend with the native addon) needs none of this: its
// products are native/decode.cc's decodeMatmul, which computes a row the same way for any row count, place and
// thread count, so a generator using it runs the whole batch in one call (row group 0).
import * as tf from '@tensorflow/tfjs';
import type { LlamaModel } from '../train/model.js';
import { Rng } from '../util/rng.js';

const CANDIDATES = [16, 8, 4, 2];

/** The weights decoding multiplies by, as [in, out] (or the tied embedding, used transposed). */
function productWeights(model: LlamaModel): { w: tf.Tensor2D; transposeB: boolean }[] {
  const seen = new Set<string>();
  const out: { w: tf.Tensor2D; transposeB: boolean }[] = [];
  for (const [name, v] of model.params) {
    const head = name === 'lm_head.weight' || (name === 'model.embed_tokens.weight' && model.config.tie_word_embeddings);
    if (!head && !name.endsWith('_proj.weight')) continue;
    const transposeB = name === 'model.embed_tokens.weight';
    const key = `${v.shape.join('x')}:${transposeB}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ w: v as unknown as tf.Tensor2D, transposeB });
  }
  return out;
}

/** True when every row of a G-row product with these weights is computed the same way at every place. */
function placeInvariant(G: number, weights: { w: tf.Tensor2D; transposeB: boolean }[], rng: Rng): boolean {
  return weights.every(({ w, transposeB }) =>
    tf.tidy(() => {
      const K = transposeB ? w.shape[1] : w.shape[0];
      const a = rng.normalArray(G * K, 1);
      const rotated = new Float32Array(G * K);
      rotated.set(a.subarray(K), 0);
      rotated.set(a.subarray(0, K), (G - 1) * K);
      const c = tf.matMul(tf.tensor2d(a, [G, K]), w, false, transposeB).dataSync();
      const r = tf.matMul(tf.tensor2d(rotated, [G, K]), w, false, transposeB).dataSync();
      const N = c.length / G;
      // Row p of a is row p - 1 of rotated (row 0 is the last).
      for (let p = 0; p < G; p++) {
        const q = (p + G - 1) % G;
        for (let j = 0; j < N; j++) if (c[p * N + j] !== r[q * N + j]) return false;
      }
      return true;
    }),
  );
}

/** The largest row group whose products are place-invariant for this model (1 when none is). */
export function measureRowGroup(model: LlamaModel): number {
  const weights = productWeights(model);
  const rng = new Rng(0x5eed);
  // Twice each: a pass can be luck (rows that happen to round alike), a failure is never a fluke.
  for (const G of CANDIDATES) if (placeInvariant(G, weights, rng) && placeInvariant(G, weights, rng)) return G;
  return 1;
}
