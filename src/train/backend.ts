// Choose the tfjs backend at run time: tensorflow (libtensorflow via @tensorflow/tfjs-node-gpu or -node) when its
// native addon is really there, else wasm, else cpu. tfjs-node is an optional dependency whose install downloads
// libtensorflow and fails offline; requiring a half-installed copy crashes or floods stderr, so we look for the
// addon file first. No tensor may be created before setBackend (it would pin the wrong backend).
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../cli/errors.js';
import { installKernels } from './kernels.js';
import { nativeAddon } from './native.js';
import { setWasmBackend, wantedThreads } from './wasm-threads.js';

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

const require = createRequire(import.meta.url);

/** The tfjs-node package whose native addon is present, or undefined. */
export function findNativePackage(): string | undefined {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
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

export interface BackendInfo {
  name: string;
  /** Kernels of ours registered into it. */
  kernels: string[];
  detail: string;
  /** The native addon's description when its kernels run (wasm only). */
  native?: string;
}

let current: BackendInfo | undefined;

export function backendChoice(v: unknown): BackendChoice {
  const s = String(v ?? process.env.MATHPIPE_BACKEND ?? 'auto');
  if (!(BACKENDS as readonly string[]).includes(s)) throw new UsageError(`unknown backend "${s}" (choose ${BACKENDS.join(', ')})`);
  return s as BackendChoice;
}

/** Threads the wasm backend runs XNNPACK with (0 when it could not start). */
async function tryWasm(threads: number): Promise<number> {
  try {
    return await setWasmBackend(threads);
  } catch {
    return 0;
  }
}

/** Select and initialise a backend once per process; later calls return the first choice. */
export async function initBackend(choice: BackendChoice = backendChoice(undefined)): Promise<BackendInfo> {
  if (current) return current;
  // tfjs prints a "hi there, install tfjs-node" banner and kernel warnings in production mode off; keep stderr clean.
  tf.env().set('IS_TEST', false);
  tf.enableProdMode();
  let detail = '';
  if (choice === 'auto' || choice === 'tensorflow') {
    const pkg = findNativePackage();
    if (pkg) {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) detail = pkg;
    } else if (choice === 'tensorflow') {
      throw new UsageError('backend "tensorflow" needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu with its native addon (npm install @tensorflow/tfjs-node, online)');
    }
  }
  if (!detail && (choice === 'auto' || choice === 'wasm')) {
    const threads = await tryWasm(wantedThreads());
    if (threads > 0) detail = `@tensorflow/tfjs-backend-wasm${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? ' (SIMD)' : ''}, ${threads} thread${threads > 1 ? 's' : ''}`;
    else if (choice === 'wasm') throw new UsageError('backend "wasm" could not be initialised');
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
  current = { name, kernels: installKernels(name), detail, native };
  return current;
}
