// The machine's attainable FP32 peak for bench/train's model FLOPs utilisation: GFLOP/s of a large
// square SGEMM through the native addon's OpenBLAS (the library mathpipe's products run on) on a given
// number of threads, best of the calls made in about a second. Prints one JSON line; {"gflops": null}
// with the reason when the addon or its BLAS is missing (run.sh then asks numpy, which links OpenBLAS).
// Usage: node dist/bench/train/peak.js [threads=1] [n=2048]
import { nativeAddon } from '../../src/train/native.js';

const threads = Number(process.argv[2] ?? 1);
const n = Number(process.argv[3] ?? 2048);
const addon = nativeAddon();
const blas = addon?.blasInfo() ?? '';
if (!addon || !blas) {
  console.log(JSON.stringify({ gflops: null, why: addon ? 'the native addon found no BLAS' : 'native addon not built or disabled' }));
} else {
  addon.setThreads(threads);
  const a = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const b = Float32Array.from({ length: n * n }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  const c = new Float32Array(n * n);
  const call = () => addon.sgemm(a, b, c, 1, n, n, n, false, false, 0, 0, 0);
  call(); // warm-up: OpenBLAS starts its threads and packs buffers on the first call
  let best = Infinity;
  const until = performance.now() + 1000;
  for (let i = 0; i < 3 || performance.now() < until; i++) {
    const t0 = performance.now();
    call();
    best = Math.min(best, performance.now() - t0);
  }
  console.log(JSON.stringify({ gflops: Math.round((2 * n ** 3) / (best / 1000) / 1e7) / 100, threads, n, blas }));
}
