// Entry file of one tfjs-backend-wasm pthread in Node: worker_threads needs a file where tfjs hands Emscripten a
// Blob URL. What it runs lives with the other tfjs patches in tfjs-internals.ts.
import { runWasmPthread } from './tfjs-internals.js';

runWasmPthread(import.meta.url);
