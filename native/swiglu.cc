// SwiGLU's gate y = g * sigmoid(g) * u and its gradients; the backward recomputes sigmoid rather than saving it.
// The forward serves training and decoding (a step's few rows run on the calling thread, as norm.cc's).
#include "common.h"
#include "vecmath.h"

namespace {

// Elements per OpenMP chunk: large enough to amortise scheduling, small enough to split [2048, 352] evenly.
// Chunks with an inner simd loop: a `parallel for simd` loop calls the scalar sigmoid here.
constexpr int64_t kChunk = 4096;
// Elements below which the forward runs on the calling thread.
constexpr int64_t kParallelElements = 1 << 16;

// y = g sigmoid(g) u over n elements (out of line: the threaded and the calling-thread loops run this one copy).
__attribute__((noinline)) void forwardChunk(const float* g, const float* u, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) y[i] = g[i] * vm::sigmoid(g[i]) * u[i];
}

// swigluForward(g, u, y, n)
napi_value SwigluForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t ng = 0, nu = 0, ny = 0;
  const float* g = a.array<float>(0, &ng);
  const float* u = a.array<float>(1, &nu);
  float* y = a.array<float>(2, &ny);
  int64_t n = a.integer(3);
  const char* k = "swigluForward";
  if (!a.atLeast(k, "n", n, 0) || !a.holds(k, "g", ng, n) || !a.holds(k, "u", nu, n) || !a.holds(k, "y", ny, n)) return nullptr;
  parallelFor((n + kChunk - 1) / kChunk, n > kParallelElements, [&](int64_t c) {
    const int64_t begin = c * kChunk, end = begin + kChunk < n ? begin + kChunk : n;
    forwardChunk(g + begin, u + begin, y + begin, end - begin);
  });
  return undefined(env);
}
MP_EXPORT("swigluForward", SwigluForward);

// swigluBackward(g, u, dy, dg, du, n): dg = dy u s (1 + g (1 - s)), du = dy g s, s = sigmoid(g).
napi_value SwigluBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t ng = 0, nu = 0, ndy = 0, ndg = 0, ndu = 0;
  const float* g = a.array<float>(0, &ng);
  const float* u = a.array<float>(1, &nu);
  const float* dy = a.array<float>(2, &ndy);
  float* dg = a.array<float>(3, &ndg);
  float* du = a.array<float>(4, &ndu);
  int64_t n = a.integer(5);
  const char* k = "swigluBackward";
  if (!a.atLeast(k, "n", n, 0) || !a.holds(k, "g", ng, n) || !a.holds(k, "u", nu, n) || !a.holds(k, "dy", ndy, n) || !a.holds(k, "dg", ndg, n) ||
      !a.holds(k, "du", ndu, n))
    return nullptr;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < n; c += kChunk) {
    const int64_t end = c + kChunk < n ? c + kChunk : n;
#pragma omp simd
    for (int64_t i = c; i < end; i++) {
      const float s = vm::sigmoid(g[i]);
      dg[i] = dy[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
      du[i] = dy[i] * g[i] * s;
    }
  }
  return undefined(env);
}
MP_EXPORT("swigluBackward", SwigluBackward);

}  // namespace
