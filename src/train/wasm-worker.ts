// Entry of one tfjs-backend-wasm pthread in Node (see wasm-threads.ts). tfjs hands Emscripten a Blob URL for the
// worker script and the worker then evaluates the main bundle by path; neither works under worker_threads, so
// this file stands in for both: it runs tfjs's own worker script, then points its importScripts at the
// Emscripten glue that defines WasmBackendModuleThreadedSimd as a global.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { wasmOutFile } from './wasm-files.js';

const require = createRequire(import.meta.url);
// The worker script is a classic script: it expects CommonJS's require and __filename as globals.
Object.assign(globalThis, { require, __filename: fileURLToPath(import.meta.url) });
const { wasmWorkerContents } = require(wasmOutFile('tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
// The contents hold "\n" escapes that became real newlines inside string literals; tfjs re-escapes them the same way.
(0, eval)(wasmWorkerContents.replace(/\n/g, '\\n'));
const glue = wasmOutFile('tfjs-backend-wasm-threaded-simd.js');
Object.assign(globalThis, { importScripts: () => (0, eval)(readFileSync(glue, 'utf8')) });
