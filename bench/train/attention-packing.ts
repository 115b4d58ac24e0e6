// The native attention kernels (forward + backward, called directly on Float32Arrays) on one batch of B rows of
// T tokens: one sequence per row, the same with all-zero segments, and rows packed with examples of T/n tokens
// (and of random lengths), so the masked blocks the packed kernels skip show as time saved. With the path of
// another build of the addon (e.g. one built from an older native/attention.cc), its unsegmented kernels run
// beside ours, to compare the unpacked path's speed. Variants run interleaved, round after round, and the median
// of each is reported: on a shared machine the ratios are more telling than the times.
// Usage: node dist/bench/train/attention-packing.js [T=1024] [examples per row=8] [other mathpipe.node]
// Env: B (2), H (4), KV (4), HD (32), THREADS (2), ROUNDS (7).
import { createRequire } from 'node:module';
import { nativeAddon, type NativeAddon } from '../../src/train/native.js';
import { ropeTables, segmentStarts } from '../../src/train/ops/attention.js';
import { Rng } from '../../src/util/rng.js';

type F32 = Float32Array;
interface Kernels extends NativeAddon {
  attentionForward(q: F32, k: F32, v: F32, cos: F32, sin: F32, out: F32, lse: F32, B: number, T: number, H: number, KV: number, hd: number, seg?: Int32Array): void;
  attentionBackward(dy: F32, q: F32, k: F32, v: F32, cos: F32, sin: F32, lse: F32, dq: F32, dk: F32, dv: F32, B: number, T: number, H: number, KV: number, hd: number, seg?: Int32Array): void;
}

const T = Number(process.argv[2] ?? 1024);
const n = Number(process.argv[3] ?? 8);
const env = (k: string, d: number) => Number(process.env[k] ?? d);
const [B, H, KV, hd, threads, rounds] = [env('B', 2), env('H', 4), env('KV', 4), env('HD', 32), env('THREADS', 2), env('ROUNDS', 7)];

const ours = nativeAddon() as Kernels | undefined;
if (!ours) throw new Error('bench/train/attention-packing: the native addon is not built');
const other = process.argv[4] ? (createRequire(import.meta.url)(process.argv[4]) as Kernels) : undefined;
ours.setThreads(threads);
other?.setThreads(threads);

const rng = new Rng(1);
const [q, k, v, dy] = [H, KV, KV, H].map((h) => rng.normalArray(B * T * h * hd, 1));
const r = ropeTables(T, hd, 10000);
const [cos, sin] = [r.cos.dataSync() as F32, r.sin.dataSync() as F32];
const out = new Float32Array(B * T * H * hd);
const lse = new Float32Array(B * H * T);
const [dq, dk, dv] = [H, KV, KV].map((h) => new Float32Array(B * T * h * hd));

const even = segmentStarts(Array.from({ length: B }, () => Array<number>(n).fill(Math.floor(T / n))), T);
const random = segmentStarts(
  Array.from({ length: B }, () => {
    const row: number[] = [];
    for (let left = T; left > 0; ) left -= row[row.push(Math.min(left, 1 + rng.int(Math.floor((2 * T) / n)))) - 1];
    return row;
  }),
  T,
);

/** Forward then backward, in ms. */
function step(a: Kernels, seg?: Int32Array): number {
  const t0 = performance.now();
  if (seg) {
    a.attentionForward(q, k, v, cos, sin, out, lse, B, T, H, KV, hd, seg);
    a.attentionBackward(dy, q, k, v, cos, sin, lse, dq, dk, dv, B, T, H, KV, hd, seg);
  } else {
    a.attentionForward(q, k, v, cos, sin, out, lse, B, T, H, KV, hd);
    a.attentionBackward(dy, q, k, v, cos, sin, lse, dq, dk, dv, B, T, H, KV, hd);
  }
  return performance.now() - t0;
}

const variants: [string, () => number][] = [
  ['one sequence per row', () => step(ours)],
  ['segments all zero', () => step(ours, new Int32Array(B * T))],
  [`packed, ${n} examples of ${Math.floor(T / n)}`, () => step(ours, even)],
  [`packed, random lengths (mean ~${Math.round(T / n)})`, () => step(ours, random)],
];
if (other) variants.unshift([`one sequence per row (${process.argv[4]})`, () => step(other)]);

const times = variants.map(() => [] as number[]);
for (const [, f] of variants) f(); // warm-up
for (let i = 0; i < rounds; i++) variants.forEach(([, f], j) => times[j].push(f()));
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
const base = median(times[other ? 1 : 0]);
console.log(`attention forward+backward, B=${B} T=${T} H=${H} KV=${KV} hd=${hd}, ${threads} threads, median of ${rounds}:`);
for (const [j, [name]] of variants.entries()) {
  const m = median(times[j]);
  console.log(`${m.toFixed(1).padStart(9)} ms  ${(m / base).toFixed(2)}x  ${name}`);
}
