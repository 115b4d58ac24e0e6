// The optional native addon (native/*.cc, built at install by scripts/build-native.mjs): OpenBLAS products and
// fused training kernels that run on the wasm backend's memory directly (typed-array views over its heap), so
// tensors stay tfjs-wasm tensors and nothing is copied. Absent or disabled (MATHPIPE_NATIVE=0), every op falls
// back to its tfjs composition.
import { existsSync } from 'node:fs';
import { internalsUsable } from './tfjs-internals.js';
import { ADDON_PATH, loadAddon } from '../util/native-addon.js';

type F32 = Float32Array;

/** Functions every build exports; fused ops declare the kernels they call next to their tfjs composition. */
export interface NativeAddon {
  blasInfo(): string;
  /** Threads for the fused kernels (OpenMP) and OpenBLAS. */
  setThreads(n: number): void;
  sgemm(a: F32, b: F32, c: F32, batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean, strideA: number, strideB: number, beta: number): void;
}

let cached: NativeAddon | null | undefined;

/**
 * The addon, or undefined when it is not built, MATHPIPE_NATIVE=0, or the installed tfjs is not the release whose
 * heap layout its callers rely on (tfjs-internals.ts warns about that once).
 */
export function nativeAddon(): NativeAddon | undefined {
  // The tfjs check only when the addon is wanted and there: it warns about a tfjs mismatch once.
  if (cached === undefined) cached = process.env.MATHPIPE_NATIVE !== '0' && existsSync(ADDON_PATH) && internalsUsable() ? ((loadAddon() as NativeAddon | undefined) ?? null) : null;
  return cached ?? undefined;
}

/**
 * Why the native kernels are not running, for the engine line every model command prints. A missing build gets the
 * way to build it: npm 11 no longer runs the install scripts of installed packages by default (allow-scripts), so
 * a global `npm install -g mathpipe` leaves the addon unbuilt until `npm rebuild mathpipe`.
 */
export function nativeOffReason(): { missing: boolean; text: string } {
  return { missing: process.env.MATHPIPE_NATIVE !== '0' && !existsSync(ADDON_PATH), text: offText() };
}

function offText(): string {
  if (process.env.MATHPIPE_NATIVE === '0') return 'native kernels: off (MATHPIPE_NATIVE=0)';
  if (!existsSync(ADDON_PATH)) {
    return 'native kernels: not built, so training runs on the tfjs kernels (about 5x slower). Build them with `npm rebuild mathpipe` (`npm rebuild -g mathpipe` for a global install) ' +
      '(npm 11 skips install scripts unless allowed: `npm install -g --allow-scripts=mathpipe mathpipe`; needs g++, and libopenblas for fast products), or `npm run build` in a clone';
  }
  return 'native kernels: off (not the wasm backend, or a stale build that does not load: `npm rebuild mathpipe`)';
}

/** The addon typed with kernels K, when it is loaded and exports every one of `fns` (a stale build may not). */
export function nativeWith<K>(...fns: (keyof K & string)[]): (NativeAddon & K) | undefined {
  const addon = nativeAddon() as (NativeAddon & Partial<Record<string, unknown>>) | undefined;
  return addon && fns.every((f) => typeof addon[f] === 'function') ? (addon as NativeAddon & K) : undefined;
}
