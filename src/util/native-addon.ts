// The optional native addon (native/*.cc -> dist/native/mathpipe.node) loaded on its own, for code that uses it
// without tfjs (output files here; decontam's scan). src/train/native.ts adds the tfjs checks its kernels need.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ADDON_PATH = fileURLToPath(new URL('../../native/mathpipe.node', import.meta.url));

let cached: Record<string, unknown> | null | undefined;

/** The addon, or undefined when it is not built, MATHPIPE_NATIVE=0, or a stale or foreign build does not load. */
export function loadAddon(): Record<string, unknown> | undefined {
  if (cached === undefined) {
    cached = null;
    if (process.env.MATHPIPE_NATIVE !== '0' && existsSync(ADDON_PATH)) {
      // OpenMP's idle threads spin by default and take the cores of a small machine; libgomp reads this once.
      process.env.OMP_WAIT_POLICY ??= 'passive';
      try {
        cached = createRequire(import.meta.url)(ADDON_PATH) as Record<string, unknown>;
      } catch {
        cached = null;
      }
    }
  }
  return cached ?? undefined;
}

/** The addon typed as K when it exports every one of `fns` (a stale build may not). */
export function addonWith<K>(...fns: (keyof K & string)[]): K | undefined {
  const a = loadAddon();
  return a && fns.every((f) => typeof a[f] === 'function') ? (a as K) : undefined;
}
