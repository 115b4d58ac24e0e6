// Glue between fused ops and the native addon: a kernel is registered on the wasm backend under our own name,
// reads its inputs and writes its outputs as typed-array views over the wasm heap, and is run with
// runKernel from inside a tf.customGrad. Ops ask nativeKernels() whether to take this path or their tfjs
// composition (other backends, MATHPIPE_NATIVE=0, no addon built).
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { nativeAddon, nativeWith, type NativeAddon } from '../native.js';

/** The tfjs-wasm backend internals we use (not in its public typings). */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): void;
  incRef(dataId: object): void;
  refCount(dataId: object): number;
}

/** Outputs and typed-array views on the wasm heap. Take views after making every output (the heap may grow). */
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

export interface KernelContext<K = unknown> extends WasmHeap {
  /** The addon, typed by the caller with the functions its kernels use. */
  addon: NativeAddon & K;
  inputs: Record<string, TensorInfo>;
  attrs: NamedAttrMap;
}

const registered = new Set<string>();

/** Register a native kernel on the wasm backend (idempotent). body returns its outputs in order. */
export function defineNativeKernel<K>(name: string, body: (c: KernelContext<K>) => TensorInfo[]): void {
  if (registered.has(name)) return;
  registered.add(name);
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const addon = nativeAddon();
      if (!addon) throw new Error(`${name}: the native addon is not loaded`);
      return body({ ...wasmHeap(backend), addon: addon as NativeAddon & K, inputs: inputs as Record<string, TensorInfo>, attrs: attrs as NamedAttrMap });
    },
  });
}

/** True when fused native kernels can run now: wasm backend active and the addon exports `fn`. */
export function nativeKernels(fn: string): boolean {
  return tf.getBackend() === 'wasm' && nativeWith<Record<string, unknown>>(fn) !== undefined;
}

/** Run a registered kernel; returns its outputs as tensors. */
export function runNative(name: string, inputs: Record<string, tf.Tensor>, attrs: NamedAttrMap = {}): tf.Tensor[] {
  const out = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs);
  return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
}
