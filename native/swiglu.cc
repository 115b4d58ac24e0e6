// SwiGLU's gate y = g * sigmoid(g) * u and its gradients; the backward recomputes sigmoid rather than saving it.
#include "common.h"
#include "vecmath.h"

namespace {

// Elements per OpenMP chunk: large enough to amortise scheduling, small enough to split [2048, 352] evenly.
constexpr int64_t kChunk = 4096;

// swigluForward(g, u, y, n)
napi_value SwigluForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const float* g = a.array<float>(0);
  const float* u = a.array<float>(1);
  float* y = a.array<float>(2);
  int64_t n = a.integer(3);
  if (!a.ok) return nullptr;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < n; c += kChunk) {
    const int64_t end = c + kChunk < n ? c + kChunk : n;
#pragma omp simd
    for (int64_t i = c; i < end; i++) y[i] = g[i] * vm::sigmoid(g[i]) * u[i];
  }
  return undefined(env);
}
MP_EXPORT("swigluForward", SwigluForward);

// swigluBackward(g, u, dy, dg, du, n): dg = dy u s (1 + g (1 - s)), du = dy g s, s = sigmoid(g).
napi_value SwigluBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const float* g = a.array<float>(0);
  const float* u = a.array<float>(1);
  const float* dy = a.array<float>(2);
  float* dg = a.array<float>(3);
  float* du = a.array<float>(4);
  int64_t n = a.integer(5);
  if (!a.ok) return nullptr;
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
