// Choose the tfjs backend at run time, by evidence: on a CPU the wasm backend with our native kernels is the engine
// that is tested and measured (1.4-1.8x PyTorch here), so `auto` takes it even where @tensorflow/tfjs-node is
// installed (libtensorflow's CPU kernels were never measured against it); `tensorflow` is taken by `auto` only as
// the GPU build (@tensorflow/tfjs-node-gpu) with a CUDA device visible, or when asked for by name. tfjs-node(-gpu)
// is an optional peer whose install downloads libtensorflow; requiring a half-installed copy crashes or floods
// stderr, so we look for the addon file first. No tensor may be created before setBackend (it would pin the
// wrong backend).
import { createRequire } from 'node:module';
import os from 'node:os';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { installKernels } from './kernels.js';
import { nativeAddon, nativeOffReason } from './native.js';
import { MAX_WASM_THREADS, setWasmBackend } from './tfjs-internals.js';

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

const require = createRequire(import.meta.url);

const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';

/** The tfjs-node package whose native addon is present (the GPU build first), or undefined. */
export function findNativePackage(): string | undefined {
  for (const pkg of [GPU_PACKAGE, '@tensorflow/tfjs-node']) {
    let root: string;
    try {
      root = dirname(require.resolve(`${pkg}/package.json`));
    } catch {
      continue;
    }
    const lib = join(root, 'lib');
    if (!existsSync(lib)) continue;
    const napi = readdirSync(lib).filter((d) => d.startsWith('napi-v'));
    if (napi.some((d) => existsSync(join(lib, d, 'tfjs_binding.node')))) return pkg;
  }
  return undefined;
}

/** An NVIDIA device the driver exposes (what libtensorflow's CUDA build needs to run anything on the GPU). */
export function cudaDeviceVisible(): boolean {
  if (process.env.CUDA_VISIBLE_DEVICES === '' || process.env.CUDA_VISIBLE_DEVICES === '-1') return false;
  try {
    return readdirSync('/dev').some((n) => /^nvidia\d+$/.test(n));
  } catch {
    return false;
  }
}

/**
 * What `auto` picks and why, from what is installed and visible. Pure, so the policy is tested without
 * installing libtensorflow.
 */
export function autoChoice(nativePackage: string | undefined, cuda: boolean): { backend: 'tensorflow' | 'wasm'; why: string } {
  if (nativePackage === GPU_PACKAGE && cuda) return { backend: 'tensorflow', why: `${GPU_PACKAGE} is installed and a CUDA device is visible` };
  if (nativePackage === GPU_PACKAGE) return { backend: 'wasm', why: `${GPU_PACKAGE} is installed but no CUDA device is visible; the CPU engine is wasm + native kernels` };
  if (nativePackage) return { backend: 'wasm', why: `on a CPU wasm + native kernels is the tested, measured engine (${nativePackage} is used only with --backend tensorflow)` };
  return { backend: 'wasm', why: 'no GPU build of libtensorflow installed; the CPU engine is wasm + native kernels' };
}

/** Threads to use: MATHPIPE_THREADS if set (1 = single-threaded), else every available core, at most 8. */
export function wantedThreads(env: string | undefined = process.env.MATHPIPE_THREADS): number {
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`MATHPIPE_THREADS must be a positive integer, got "${env}"`);
    return Math.min(n, MAX_WASM_THREADS);
  }
  return Math.min(os.availableParallelism(), MAX_WASM_THREADS);
}

/** What the running backend can do, for the code that picks a path by it (passed on, never read from a global). */
export interface BackendCapabilities {
  /**
   * wasm's matrix products run on OpenBLAS. Only then may parameters be updated in place: XNNPACK caches each
   * right operand packed, keyed by tensor id, and would keep multiplying by the old weights.
   */
  blasProducts: boolean;
}

/** A backend with none of our capabilities (the stock path everywhere). */
export const NO_CAPABILITIES: BackendCapabilities = { blasProducts: false };

export interface BackendInfo {
  name: string;
  /** Why this backend runs (the choice asked for, or what auto saw). */
  why: string;
  /** Kernels of ours registered into it. */
  kernels: string[];
  detail: string;
  /** The native addon's description when its kernels run (wasm only). */
  native?: string;
  caps: BackendCapabilities;
}

let current: BackendInfo | undefined;

export function backendChoice(v: unknown): BackendChoice {
  const s = String(v ?? process.env.MATHPIPE_BACKEND ?? 'auto');
  if (!(BACKENDS as readonly string[]).includes(s)) throw new UsageError(`unknown backend "${s}" (choose ${BACKENDS.join(', ')})`);
  return s as BackendChoice;
}

/** Select and initialise a backend once per process; later calls return the first choice. */
export async function initBackend(choice: BackendChoice = backendChoice(undefined)): Promise<BackendInfo> {
  if (current) return current;
  // tfjs prints a "hi there, install tfjs-node" banner and kernel warnings in production mode off; keep stderr clean.
  tf.env().set('IS_TEST', false);
  tf.enableProdMode();
  let detail = '';
  let why = `--backend ${choice}`;
  let want: BackendChoice = choice;
  if (choice === 'auto') {
    const auto = autoChoice(findNativePackage(), cudaDeviceVisible());
    want = auto.backend;
    why = `auto: ${auto.why}`;
  }
  if (want === 'tensorflow') {
    const pkg = findNativePackage();
    if (!pkg) throw new UsageError(`backend "tensorflow" needs ${GPU_PACKAGE} (or @tensorflow/tfjs-node) with its native addon: npm install ${GPU_PACKAGE}@4.22.0 (it downloads libtensorflow; see README, GPU)`);
    await import(pkg);
    if (!(await tf.setBackend('tensorflow'))) throw new UsageError(`backend "tensorflow": ${pkg} is installed but tfjs could not start it`);
    detail = pkg;
  }
  if (want === 'wasm') {
    try {
      const threads = await setWasmBackend(wantedThreads());
      detail = `@tensorflow/tfjs-backend-wasm${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? ' (SIMD)' : ''}, ${threads} thread${threads > 1 ? 's' : ''}`;
    } catch (e) {
      // Asked for by name: say why it could not start. Under auto, fall back to cpu and say that too (and why).
      const cause = e instanceof Error ? e.message : String(e);
      if (choice === 'wasm') throw new UsageError(`backend "wasm" could not be initialised: ${cause}`);
      why += `; wasm could not start (${cause}), so the pure-JavaScript cpu backend runs`;
    }
  }
  if (!detail) {
    await tf.setBackend('cpu');
    detail = 'pure JavaScript';
  }
  await tf.ready();
  const name = tf.getBackend();
  const addon = name === 'wasm' ? nativeAddon() : undefined;
  let native: string | undefined;
  if (addon) {
    addon.setThreads(wantedThreads());
    const blas = addon.blasInfo();
    native = blas ? `products on ${blas.split(' ')[0]}` : 'no OpenBLAS found: products on XNNPACK';
  }
  const { kernels, blasProducts } = installKernels(name);
  current = { name, why, kernels, detail, native, caps: { blasProducts } };
  return current;
}

/** The engine on stderr, for every command that runs the model: which backend and kernels, and why. */
export function logBackend(b: BackendInfo): void {
  info(`backend ${b.name} (${b.detail})${b.kernels.length ? `, own kernels: ${b.kernels.join(', ')}` : ''}; ${b.why}`);
  if (b.native) info(`native kernels (${b.native})`);
  else if (b.name !== 'wasm') info('native kernels: off (not the wasm backend)');
  else {
    // A missing build is a warning (training is ~5x slower) with the command that builds it; a chosen off is not.
    const off = nativeOffReason();
    (off.missing ? warn : info)(off.text);
  }
}
