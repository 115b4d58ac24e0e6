// Multi-threaded XNNPACK for the wasm backend in Node. tfjs-backend-wasm ships a threaded SIMD build but turns it
// off in Node (tfjs issue 3830): its WASM_HAS_MULTITHREAD_SUPPORT flag answers false there, its pthread workers
// are started from a Blob URL that worker_threads refuses, and the C++ side caps the pool at half of
// os.cpus().length (it assumes two hyperthreads per core). We set the flag, give Emscripten a real worker file
// (wasm-worker.ts) and report twice the wanted thread count to the C++ cap, only while the backend initialises.
import os from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../cli/errors.js';
import { wasmOutFile } from './wasm-files.js';

interface EmscriptenPThread {
  runningWorkers: { unref?: () => void }[];
  unusedWorkers: { unref?: () => void }[];
}

/** The C++ side never uses more threads than the pthread pool it pre-creates. */
export const MAX_WASM_THREADS = 8;

/** Threads to use: MATHPIPE_THREADS if set (1 = single-threaded), else every available core, at most 8. */
export function wantedThreads(env: string | undefined = process.env.MATHPIPE_THREADS): number {
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`MATHPIPE_THREADS must be a positive integer, got "${env}"`);
    return Math.min(n, MAX_WASM_THREADS);
  }
  return Math.min(os.availableParallelism(), MAX_WASM_THREADS);
}

function prerequisites(): boolean {
  return typeof SharedArrayBuffer === 'function' && existsSync(wasmOutFile('tfjs-backend-wasm-threaded-simd.js')) && existsSync(wasmOutFile('tfjs-backend-wasm-threaded-simd.worker.js'));
}

/**
 * Initialise the wasm backend with `threads` XNNPACK threads (1: the stock single-threaded build). Returns the
 * thread count in use, or 0 when setBackend failed.
 */
export async function setWasmBackend(threads: number): Promise<number> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (threads <= 1 || !prerequisites()) return (await tf.setBackend('wasm')) ? 1 : 0;
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
    if (!(await tf.setBackend('wasm'))) return 0;
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
