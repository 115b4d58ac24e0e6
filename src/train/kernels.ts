// Kernel overrides registered into tfjs backends (the training core; man mathpipe-pretrain describes what runs where):
// 1. UnsortedSegmentSum as a plain scatter-add. It is the gradient of gather (embeddings, the target-logit pick
//    in the loss). wasm has no kernel for it at all, and cpu's builds one mask per segment (O(segments x rows)).
// 2. wasm Transpose in JavaScript (see transpose.ts: the stock kernel is pathologically slow); wasm Identity
//    without a copy.
// 3. wasm BatchMatMul on OpenBLAS when the native addon is built (native.ts). Otherwise: the stock kernel sends
//    only 2-D, untransposed, batch-1 products to XNNPACK and runs everything else (most of the backward pass,
//    all of attention) as a naive loop, so we transpose operands explicitly (a cheap memory pass), fold a shared
//    right operand's batch into rows, and split true batches into per-batch calls.
// 4. With the native addon: wasm GatherV2 of rows, the scatter-add and same-shape Add on its threads.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo, NamedAttrMap } from '@tensorflow/tfjs';
import { transposeInto } from './transpose.js';
import { nativeAddon, nativeWith, type NativeAddon } from './native.js';
import { internalsUsable, wasmHeap, type CpuBackend, type WasmBackend } from './tfjs-internals.js';

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** out[segmentIds[i], ...] += x[i, ...]; ids outside [0, numSegments) are dropped, as TensorFlow does. */
export function scatterAdd(x: ArrayLike<number>, ids: ArrayLike<number>, out: Float32Array, inner: number, numSegments: number): void {
  out.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const xo = i * inner;
    const oo = s * inner;
    for (let j = 0; j < inner; j++) out[oo + j] += x[xo + j];
  }
}

function segmentShapes(x: TensorInfo, ids: TensorInfo, numSegments: number): { outShape: number[]; inner: number } {
  // x must hold one row per id: otherwise the scatter would read past x.
  if (!tf.util.arraysEqual(x.shape.slice(0, ids.shape.length), ids.shape))
    throw new Error(`unsortedSegmentSum: segmentIds shape [${ids.shape}] is not a prefix of x shape [${x.shape}]`);
  const rest = x.shape.slice(ids.shape.length);
  return { outShape: [numSegments, ...rest], inner: size(rest) };
}

const cpuSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as NamedAttrMap).numSegments as number;
  const b = backend as unknown as CpuBackend;
  const { outShape, inner } = segmentShapes(x, segmentIds, numSegments);
  const out = new Float32Array(size(outShape));
  scatterAdd(b.data.get(x.dataId).values, b.data.get(segmentIds.dataId).values, out, inner, numSegments);
  return b.makeTensorInfo(outShape, 'float32', out);
};

/** native/gather.cc, when the addon is built. */
interface GatherKernels {
  gatherRows(table: Float32Array, ids: Int32Array, out: Float32Array, rows: number, inner: number): void;
  scatterAddRows(x: Float32Array, ids: Int32Array, out: Float32Array, segments: number, inner: number): void;
}


const wasmSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as NamedAttrMap).numSegments as number;
  const b = backend as unknown as WasmBackend;
  const { outShape, inner } = segmentShapes(x, segmentIds, numSegments);
  const out = b.makeOutput(outShape, 'float32');
  // Views are taken after the allocation: growing the wasm heap detaches older views.
  const native = nativeWith<GatherKernels>('scatterAddRows');
  const h = wasmHeap(b);
  if (native && x.dtype === 'float32' && segmentIds.dtype === 'int32') native.scatterAddRows(h.f32(x), h.i32(segmentIds), h.f32(out), numSegments, inner);
  else scatterAdd(b.typedArrayFromHeap(x), b.typedArrayFromHeap(segmentIds), b.typedArrayFromHeap(out) as Float32Array, inner, numSegments);
  return out;
};

/** wasm GatherV2 of whole rows (axis 0, no batch dims) as row copies; everything else goes to the stock kernel. */
function wasmGatherRowsFor(stock: KernelFunc, native: GatherKernels): KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    if ((axis !== 0 && axis !== -x.shape.length) || batchDims !== 0 || x.dtype !== 'float32' || indices.dtype !== 'int32' || x.shape.length < 1) return stock(args);
    const h = wasmHeap(args.backend);
    const rest = x.shape.slice(1);
    const out = h.output([...indices.shape, ...rest]);
    native.gatherRows(h.f32(x), h.i32(indices), h.f32(out), x.shape[0], size(rest));
    return out;
  };
}

/** native/elementwise.cc: out = a + b for equal shapes. */
interface AddKernel {
  add(a: Float32Array, b: Float32Array, out: Float32Array): void;
}

/** wasm Add of two float32 tensors of one shape on the native threads; broadcasting goes to the stock kernel. */
function wasmAddFor(stock: KernelFunc, native: AddKernel): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return stock(args);
    const h = wasmHeap(args.backend);
    const out = h.output(a.shape);
    native.add(h.f32(a), h.f32(b), h.f32(out));
    return out;
  };
}

/**
 * wasm Identity shares the buffer (reference-counted, as Reshape does) instead of copying it. tfjs clones every
 * tensor a gradient saves for the backward pass, ~160 full copies per training step of the bench model.
 */
const wasmIdentity: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  (backend as unknown as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

const wasmTranspose: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const perm = (attrs as NamedAttrMap).perm as number[];
  const b = backend as unknown as WasmBackend;
  const out = b.makeOutput(perm.map((a) => x.shape[a]), x.dtype);
  transposeInto(b.typedArrayFromHeap(x), x.shape, perm, b.typedArrayFromHeap(out));
  return out;
};

/**
 * Products our BatchMatMul kernels compute themselves: float32, equal inner sizes, and batch dims equal (after
 * left-padding with 1s) or one operand unbatched. Anything else goes to the stock kernel, which throws tfjs's shape
 * errors or broadcasts properly (our paths would read past an operand or drop batches).
 */
function ownProduct(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): boolean {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2) return false;
  if ((transposeA ? a.shape[ra - 2] : a.shape[ra - 1]) !== (transposeB ? b.shape[rb - 1] : b.shape[rb - 2])) return false;
  const ab = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  if (size(ab) === 1 || size(bb) === 1) return true;
  const pad = (d: number[]) => [...new Array<number>(Math.max(ab.length, bb.length) - d.length).fill(1), ...d];
  return tf.util.arraysEqual(pad(ab), pad(bb));
}

function wasmBatchMatMulFor(stock: KernelFunc, transposeKernel: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as unknown as WasmBackend;
    const aBatchDims = a.shape.slice(0, -2);
    const bBatchDims = b.shape.slice(0, -2);
    const aBatch = size(aBatchDims);
    const bBatch = size(bBatchDims);
    const simple = !transposeA && !transposeB && aBatch === 1 && bBatch === 1;
    const supported = ownProduct(a, b, transposeA, transposeB) && (bBatch === 1 || aBatch === bBatch);
    if (simple || !supported) return stock(args);

    const temps: TensorInfo[] = [];
    const lastTwoSwapped = (t: TensorInfo): TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      const r = perm.length;
      [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
      const out = transposeKernel({ inputs: { x: t }, backend: args.backend, attrs: { perm } }) as TensorInfo;
      temps.push(out);
      return out;
    };
    if (transposeA && !transposeB && aBatch === 1 && bBatch === 1 && a.dtype === 'float32' && b.dtype === 'float32') {
      // C = A^T B with few rows (M) and many columns (N), e.g. the LM head's weight gradient h^T dlogits:
      // XNNPACK packs its right operand per call, so packing B [K, N] would dominate. Compute C^T = B^T A
      // instead (packs A [K, M]) and transpose the small result.
      const [K, M] = a.shape.slice(-2);
      const N = b.shape[b.shape.length - 1];
      if (N > 2 * M) {
        const bt = lastTwoSwapped(b);
        const ct = stock({ inputs: { a: { dataId: bt.dataId, shape: [N, K], dtype: 'float32' }, b: { dataId: a.dataId, shape: [K, M], dtype: 'float32' } }, backend: args.backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
        temps.push(ct);
        const out = lastTwoSwapped({ dataId: ct.dataId, shape: [N, M], dtype: 'float32' });
        temps.pop();
        for (const t of temps) backend.disposeData(t.dataId);
        out.shape = [...tf.broadcast_util.assertAndGetBroadcastShape(aBatchDims, bBatchDims), M, N];
        return out;
      }
    }
    const A = transposeA ? lastTwoSwapped(a) : a;
    const B = transposeB ? lastTwoSwapped(b) : b;
    const M = A.shape[A.shape.length - 2];
    const K = A.shape[A.shape.length - 1];
    const N = B.shape[B.shape.length - 1];
    const batchDims = tf.broadcast_util.assertAndGetBroadcastShape(aBatchDims, bBatchDims);
    const nn = (x: TensorInfo, y: TensorInfo) =>
      stock({ inputs: { a: x, b: y }, backend: args.backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;

    let out: TensorInfo;
    if (bBatch === 1) {
      // One right operand for every batch: the batch folds into rows of a single 2-D product.
      out = nn({ dataId: A.dataId, shape: [aBatch * M, K], dtype: 'float32' }, { dataId: B.dataId, shape: [K, N], dtype: 'float32' });
    } else {
      out = backend.makeOutput([aBatch, M, N], 'float32');
      for (let i = 0; i < aBatch; i++) {
        // Fresh operand tensors per batch: XNNPACK caches packed weights by tensor id, so ids must not be reused.
        const ai = backend.makeOutput([M, K], 'float32');
        const bi = backend.makeOutput([K, N], 'float32');
        (backend.typedArrayFromHeap(ai) as Float32Array).set((backend.typedArrayFromHeap(A) as Float32Array).subarray(i * M * K, (i + 1) * M * K));
        (backend.typedArrayFromHeap(bi) as Float32Array).set((backend.typedArrayFromHeap(B) as Float32Array).subarray(i * K * N, (i + 1) * K * N));
        const oi = nn(ai, bi);
        (backend.typedArrayFromHeap(out) as Float32Array).set(backend.typedArrayFromHeap(oi) as Float32Array, i * M * N);
        backend.disposeData(ai.dataId);
        backend.disposeData(bi.dataId);
        backend.disposeData(oi.dataId);
      }
    }
    for (const t of temps) backend.disposeData(t.dataId);
    out.shape = [...batchDims, M, N];
    return out;
  };
}

/**
 * wasm BatchMatMul on OpenBLAS (native addon): transposed operands are passed as BLAS transpose flags (no copies),
 * a shared right operand folds the batch into rows, and a broadcast operand gets stride 0.
 */
function wasmBlasBatchMatMul(addon: NativeAddon, stock: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length;
    const rb = b.shape.length;
    const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const aBatchDims = a.shape.slice(0, -2);
    const bBatchDims = b.shape.slice(0, -2);
    const aBatch = size(aBatchDims);
    const bBatch = size(bBatchDims);
    if (!ownProduct(a, b, transposeA, transposeB)) return stock(args);
    const batchDims = tf.broadcast_util.assertAndGetBroadcastShape(aBatchDims, bBatchDims);
    const batch = Math.max(aBatch, bBatch);
    const h = wasmHeap(args.backend);
    const out = h.output([...batchDims, M, N]);
    const [va, vb, vc] = [h.f32(a), h.f32(b), h.f32(out)];
    if (bBatch === 1 && !transposeA) addon.sgemm(va, vb, vc, 1, batch * M, N, K, false, transposeB, 0, 0, 0);
    else addon.sgemm(va, vb, vc, batch, M, N, K, transposeA, transposeB, aBatch === 1 ? 0 : M * K, bBatch === 1 ? 0 : K * N, 0);
    return out;
  };
}

const installed = new Map<string, Installed>();
function override(config: KernelConfig): void {
  tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

export interface Installed {
  /** Kernels registered, as logBackend names them. */
  kernels: string[];
  /** wasm's BatchMatMul runs on OpenBLAS (see BackendCapabilities). */
  blasProducts: boolean;
}

/**
 * Register our kernels into the active backend (once per backend: a later call returns the first one's answer).
 * Call after setBackend(). With tfjs internals unusable (another tfjs version) only wasm's missing
 * UnsortedSegmentSum is registered: without it no embedding has a gradient there.
 */
export function installKernels(backendName: string): Installed {
  const before = installed.get(backendName);
  if (before) return before;
  const done: string[] = [];
  let blasProducts = false;
  const own = internalsUsable();
  if (backendName === 'cpu' && own) {
    override({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: cpuSegmentSum });
    done.push('UnsortedSegmentSum');
  } else if (backendName === 'wasm' && !own) {
    if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
      tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: wasmSegmentSum });
      done.push('UnsortedSegmentSum');
    }
  } else if (backendName === 'wasm') {
    const stock = tf.getKernel('BatchMatMul', 'wasm');
    const transpose = tf.getKernel('Transpose', 'wasm');
    if (transpose) {
      override({ kernelName: 'Transpose', backendName, kernelFunc: wasmTranspose });
      done.push('Transpose');
    }
    if (tf.getKernel('Identity', 'wasm')) {
      override({ kernelName: 'Identity', backendName, kernelFunc: wasmIdentity });
      done.push('Identity');
    }
    const add = tf.getKernel('Add', 'wasm');
    const adder = nativeWith<AddKernel>('add');
    if (add && adder) {
      override({ ...add, setupFunc: undefined, kernelFunc: wasmAddFor(add.kernelFunc, adder) });
      done.push('Add');
    }
    const gather = tf.getKernel('GatherV2', 'wasm');
    const native = nativeWith<GatherKernels>('gatherRows');
    if (gather && native) {
      override({ ...gather, setupFunc: undefined, kernelFunc: wasmGatherRowsFor(gather.kernelFunc, native) });
      done.push('GatherV2');
    }
    if (tf.getKernel('UnsortedSegmentSum', 'wasm')) tf.unregisterKernel('UnsortedSegmentSum', 'wasm');
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: wasmSegmentSum });
    done.push('UnsortedSegmentSum');
    const addon = nativeAddon();
    if (stock && addon?.blasInfo()) {
      override({ ...stock, setupFunc: undefined, kernelFunc: wasmBlasBatchMatMul(addon, stock.kernelFunc) });
      done.push('BatchMatMul (OpenBLAS)');
      blasProducts = true;
    } else if (stock && transpose) {
      override({ ...stock, setupFunc: undefined, kernelFunc: wasmBatchMatMulFor(stock.kernelFunc, wasmTranspose) });
      done.push('BatchMatMul');
    }
  }
  installed.set(backendName, { kernels: done, blasProducts });
  return { kernels: done, blasProducts };
}
