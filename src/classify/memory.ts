// Where training data lives. When everything fits in one 32-bit WebAssembly memory (4 GiB), the
// matrices, the encoded examples and each thread's scratch vectors are laid out in a shared
// WebAssembly.Memory so the SIMD kernels and every worker thread see the same bytes. Otherwise plain
// SharedArrayBuffers and the JavaScript loops are used (same results, slower).
import { KERNELS_WASM } from './wasm/kernels.js';
import type { WasmKernels } from './sgd.js';

// The lib settings of this project carry no WebAssembly types: the little used here is declared.
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
}
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE - PAGE;

export interface Layout {
  memory: WasmMemory;
  wi: number;
  wo: number;
  rows: number;
  /** The examples' row weights (float32), rowCount of them after the rows. */
  weights: number;
  /** Per thread: hidden at scratch + t * 2 * vec, grad right after it. */
  scratch: number;
  vecBytes: number;
}

const align = (n: number) => Math.ceil(n / 16) * 16;

export function planMemory(wiFloats: number, woFloats: number, rowCount: number, dim: number, threads: number): Layout | null {
  if (!WA || process.env.MATHPIPE_NO_WASM) return null;
  const vecBytes = align(dim * 4);
  const wi = 64;
  const wo = align(wi + wiFloats * 4);
  const rows = align(wo + woFloats * 4);
  const weights = align(rows + rowCount * 4);
  const scratch = align(weights + rowCount * 4);
  const end = scratch + threads * 2 * vecBytes;
  if (end > MAX_BYTES) return null;
  const pages = Math.ceil(end / PAGE);
  try {
    const memory = new WA.Memory({ initial: pages, maximum: pages, shared: true });
    return { memory, wi, wo, rows, weights, scratch, vecBytes };
  } catch {
    return null; // not enough address space: fall back to SharedArrayBuffers
  }
}

let compiled: object | null = null;

export function instantiateKernels(memory: WasmMemory): WasmKernels {
  compiled ??= new WA!.Module(Buffer.from(KERNELS_WASM, 'base64'));
  return new WA!.Instance(compiled, { env: { memory } }).exports as unknown as WasmKernels;
}
