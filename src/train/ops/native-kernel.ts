// Glue between fused ops and the native addon: a kernel is registered on the wasm backend under our own name,
// reads its inputs and writes its outputs as typed-array views over the wasm heap, and is run with
// runKernel from inside a tf.customGrad. Ops ask nativeKernels() whether to take this path or their tfjs
// composition (other backends, MATHPIPE_NATIVE=0, no addon built).
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { nativeAddon, nativeWith, type NativeAddon } from '../native.js';
import { wasmHeap, type WasmHeap } from '../tfjs-internals.js';

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
