// Everything mathpipe relies on inside tfjs that its public API does not promise, in one place behind one version
// check. The patches below depend on the build output of @tensorflow/tfjs-backend-wasm 4.22.0 (the Emscripten
// glue's PThread pools, its worker script, the C++ thread cap) and on backend methods outside tfjs's exported API
// (makeOutput, typedArrayFromHeap, refCount, the cpu backend's data map). package.json pins that version exactly;
// an install that differs (an override, a hand-edited lock file) turns every patch off with one warning, so a
// changed internal can never corrupt a result silently: the stock backends run instead, slower.
//
// No value import of @tensorflow/tfjs here: the pthread worker entry (wasm-worker.ts) imports this module, and
// loading tfjs costs each of up to 8 workers most of a second.
import { createRequire } from 'node:module';
import os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { warn } from '../cli/log.js';

const require = createRequire(import.meta.url);

/** The tfjs release the patches were written against (and package.json pins). */
export const TFJS_VERSION = '4.22.0';
const PACKAGES = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm'] as const;

export type Versions = Partial<Record<(typeof PACKAGES)[number], string>>;

/** Versions of the tfjs packages as installed (a package that cannot be resolved is left out). */
export function installedVersions(): Versions {
  const out: Versions = {};
  for (const p of PACKAGES) {
    try {
      out[p] = (JSON.parse(readFileSync(require.resolve(`${p}/package.json`), 'utf8')) as { version: string }).version;
    } catch {
      // Not installed: reported as missing below.
    }
  }
  return out;
}

/** The warning for installed versions other than TFJS_VERSION, or undefined when they match. Pure. */
export function versionMismatch(installed: Versions): string | undefined {
  const off = PACKAGES.filter((p) => installed[p] !== TFJS_VERSION).map((p) => `${p} ${installed[p] ?? '(missing)'}`);
  if (!off.length) return undefined;
  return (
    `${off.join(', ')} installed, but mathpipe's tfjs patches are written for ${TFJS_VERSION}: ` +
    `kernel overrides, native kernels, in-place updates and wasm threads are off (stock tfjs runs, slower). ` +
    `Reinstall with npm ci, or npm install @tensorflow/tfjs@${TFJS_VERSION} @tensorflow/tfjs-backend-wasm@${TFJS_VERSION}`
  );
}

let usable: boolean | undefined;
let versions: () => Versions = installedVersions;

/**
 * True when the installed tfjs is the release the patches were written for. The first call that finds a mismatch
 * warns; every later call answers from the same check, so the warning is printed once per process.
 */
export function internalsUsable(): boolean {
  if (usable === undefined) {
    const m = versionMismatch(versions());
    if (m) warn(m);
    usable = !m;
  }
  return usable;
}

/** Tests only: check again, against `v` (a simulated install) or the real one. */
export function recheckVersions(v: () => Versions = installedVersions): void {
  versions = v;
  usable = undefined;
}

// ---- Backend internals ---------------------------------------------------------------------------------------

/** The wasm backend's class as tfjs-backend-wasm types it (makeOutput, typedArrayFromHeap, refCount, incRef...). */
export type WasmBackend = BackendWasm;

/** The cpu backend's internals we touch (not in tfjs's exported typings). */
export interface CpuBackend {
  data: { get(dataId: object): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
}

/**
 * Outputs and typed-array views on the wasm heap. Take views after making every output: an allocation may grow
 * the heap, which detaches every view taken before it.
 */
export interface WasmHeap {
  /** A new float32 output; its contents are NOT zeroed. */
  output(shape: number[]): TensorInfo;
  f32(t: TensorInfo): Float32Array;
  i32(t: TensorInfo): Int32Array;
}

export function wasmHeap(backend: unknown): WasmHeap {
  const be = backend as WasmBackend;
  return {
    output: (shape) => be.makeOutput(shape, 'float32'),
    f32: (t) => be.typedArrayFromHeap(t) as Float32Array,
    i32: (t) => be.typedArrayFromHeap(t) as Int32Array,
  };
}

/**
 * Whether each tensor owns its wasm buffer alone (refCount 1): only then may a kernel write into it in place
 * without changing another tensor that shares the buffer (Reshape, our Identity and clones share).
 */
export function ownsBuffers(backend: unknown, tensors: Iterable<{ dataId: object }>): boolean {
  const be = backend as WasmBackend;
  for (const x of tensors) if (be.refCount(x.dataId) !== 1) return false;
  return true;
}

// ---- Threads for the wasm backend in Node ----------------------------------------------------------------------
// tfjs-backend-wasm ships a threaded SIMD build but turns it off in Node (tfjs issue 3830): its
// WASM_HAS_MULTITHREAD_SUPPORT flag answers false there, its pthread workers are started from a Blob URL that
// worker_threads refuses, and the C++ side caps the pool at half of os.cpus().length (it assumes two hyperthreads
// per core). We set the flag, give Emscripten a real worker file (wasm-worker.ts) and report twice the wanted
// thread count to the C++ cap, only while the backend initialises.

/** The C++ side never uses more threads than the pthread pool it pre-creates. */
export const MAX_WASM_THREADS = 8;

const THREADED_GLUE = 'tfjs-backend-wasm-threaded-simd.js';
const THREADED_WORKER = 'tfjs-backend-wasm-threaded-simd.worker.js';

/** A path inside tfjs-backend-wasm's wasm-out folder (the Emscripten outputs it ships). */
function wasmOutFile(name: string): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out', name);
}

interface EmscriptenPThread {
  runningWorkers: { unref?: () => void }[];
  unusedWorkers: { unref?: () => void }[];
}

/**
 * Initialise the wasm backend with `threads` XNNPACK threads (1, or tfjs internals unusable: the stock
 * single-threaded build). Returns the thread count in use. Throws, with tfjs's reason, when it cannot start.
 */
export async function setWasmBackend(threads: number): Promise<number> {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const threaded = threads > 1 && internalsUsable() && typeof SharedArrayBuffer === 'function' && existsSync(wasmOutFile(THREADED_GLUE)) && existsSync(wasmOutFile(THREADED_WORKER));
  if (!threaded) {
    await startWasm(tf);
    return 1;
  }
  const worker = fileURLToPath(new URL('./wasm-worker.js', import.meta.url));
  const createObjectURL = URL.createObjectURL.bind(URL);
  const cpus = os.cpus;
  URL.createObjectURL = (obj: Blob) => (obj instanceof Blob && obj.type === 'application/javascript' ? worker : createObjectURL(obj));
  os.cpus = () => {
    const c = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => c[i % c.length]);
  };
  try {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
    await startWasm(tf);
    // XNNPACK's pool threads wait on a futex forever and Emscripten keeps their workers ref'd, so the process
    // would never exit; the work they do is always awaited by the main thread, so unref'ing them loses nothing.
    const pthread = (tf.backend() as unknown as { wasm: { PThread?: EmscriptenPThread } }).wasm.PThread;
    for (const w of [...(pthread?.runningWorkers ?? []), ...(pthread?.unusedWorkers ?? [])]) w.unref?.();
    return wasm.getThreadsCount();
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  }
}

/**
 * setBackend('wasm'), keeping the reason when it fails: tfjs catches the initialisation error, logs it with
 * console.warn (silenced in production mode) and answers false, so we listen for that log while it starts.
 */
async function startWasm(tf: typeof import('@tensorflow/tfjs')): Promise<void> {
  const said: string[] = [];
  const prod = tf.env().getBool('PROD');
  const consoleWarn = console.warn;
  console.warn = (...args: unknown[]) => void said.push(args.map(String).join(' '));
  tf.env().set('PROD', false);
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } catch (e) {
    said.push(e instanceof Error ? e.message : String(e));
  } finally {
    tf.env().set('PROD', prod);
    console.warn = consoleWarn;
  }
  if (ok) return;
  // Emscripten logs the first failure itself; tfjs then logs a headline and the same error wrapped twice more.
  const cause = said.map((s) => s.split('\n')[0]).find((s) => !s.startsWith('Initialization of backend'));
  throw new Error(cause ?? 'tfjs could not initialise it and gave no reason');
}

/**
 * The body of one pthread worker (wasm-worker.ts is its entry file). tfjs hands Emscripten a Blob URL for the
 * worker script and the worker then evaluates the main bundle by path; neither works under worker_threads, so
 * this runs tfjs's own worker script, then points its importScripts at the Emscripten glue that defines
 * WasmBackendModuleThreadedSimd as a global.
 */
export function runWasmPthread(entryUrl: string): void {
  // The worker script is a classic script: it expects CommonJS's require and __filename as globals.
  Object.assign(globalThis, { require, __filename: fileURLToPath(entryUrl) });
  const { wasmWorkerContents } = require(wasmOutFile(THREADED_WORKER)) as { wasmWorkerContents: string };
  // The contents hold "\n" escapes that became real newlines inside string literals; tfjs re-escapes them the same way.
  (0, eval)(wasmWorkerContents.replace(/\n/g, '\\n'));
  const glue = wasmOutFile(THREADED_GLUE);
  Object.assign(globalThis, { importScripts: () => (0, eval)(readFileSync(glue, 'utf8')) });
}
