// RMSNorm over the last axis, y = x * rstd * w with rstd = 1 / sqrt(mean(x^2) + eps), and its gradients. The
// forward serves training and decoding (a step's few rows run on the calling thread: waking the OpenMP threads
// costs tens of microseconds with passive waiting, more than the work).
#include <algorithm>
#include <cmath>
#include <vector>
#include "common.h"

namespace {

// Elements (rows x D) below which the forward runs on the calling thread.
constexpr int64_t kParallelElements = 1 << 16;

// One row (out of line: the threaded and the calling-thread loops run this one copy, the same bits).
__attribute__((noinline)) void forwardRow(const float* xr, const float* w, float* yr, float* rstd, int64_t D, float eps) {
  float ss = 0;
#pragma omp simd reduction(+ : ss)
  for (int64_t j = 0; j < D; j++) ss += xr[j] * xr[j];
  const float r = 1.0f / std::sqrt(ss / D + eps);
  *rstd = r;
#pragma omp simd
  for (int64_t j = 0; j < D; j++) yr[j] = xr[j] * r * w[j];
}

// rmsNormForward(x, w, y, rstd, rows, D, eps): x, y [rows, D], w [D], rstd [rows] (kept for the backward).
napi_value RmsNormForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t nx = 0, nw = 0, ny = 0, nr = 0;
  const float* x = a.array<float>(0, &nx);
  const float* w = a.array<float>(1, &nw);
  float* y = a.array<float>(2, &ny);
  float* rstd = a.array<float>(3, &nr);
  int64_t rows = a.integer(4), D = a.integer(5);
  float eps = static_cast<float>(a.num(6));
  const char* k = "rmsNormForward";
  if (!a.atLeast(k, "rows", rows, 0) || !a.atLeast(k, "D", D, 1) || !a.holds(k, "x", nx, rows * D) || !a.holds(k, "w", nw, D) ||
      !a.holds(k, "y", ny, rows * D) || !a.holds(k, "rstd", nr, rows))
    return nullptr;
  parallelFor(rows, rows * D > kParallelElements, [&](int64_t i) { forwardRow(x + i * D, w, y + i * D, rstd + i, D, eps); });
  return undefined(env);
}
MP_EXPORT("rmsNormForward", RmsNormForward);

// Rows per partial sum of dw: fixed, so dw is bitwise the same for any thread count.
constexpr int64_t kDwBlock = 32;

// rmsNormBackward(x, w, rstd, dy, dx, dw, rows, D):
// dx = r (w dy - x r^2 mean(w dy x)), dw = sum over rows of dy x r.
napi_value RmsNormBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t nx = 0, nw = 0, nr = 0, ndy = 0, ndx = 0, ndw = 0;
  const float* x = a.array<float>(0, &nx);
  const float* w = a.array<float>(1, &nw);
  const float* rstd = a.array<float>(2, &nr);
  const float* dy = a.array<float>(3, &ndy);
  float* dx = a.array<float>(4, &ndx);
  float* dw = a.array<float>(5, &ndw);
  int64_t rows = a.integer(6), D = a.integer(7);
  const char* k = "rmsNormBackward";
  if (!a.atLeast(k, "rows", rows, 0) || !a.atLeast(k, "D", D, 1) || !a.holds(k, "x", nx, rows * D) || !a.holds(k, "w", nw, D) ||
      !a.holds(k, "rstd", nr, rows) || !a.holds(k, "dy", ndy, rows * D) || !a.holds(k, "dx", ndx, rows * D) ||
      !a.holds(k, "dw", ndw, D))
    return nullptr;
  const int64_t blocks = (rows + kDwBlock - 1) / kDwBlock;
  std::vector<float> partial(blocks * D);
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; b++) {
    float* pw = partial.data() + b * D;
    for (int64_t j = 0; j < D; j++) pw[j] = 0;
    const int64_t end = std::min(rows, (b + 1) * kDwBlock);
    for (int64_t i = b * kDwBlock; i < end; i++) {
      const float* xr = x + i * D;
      const float* gr = dy + i * D;
      float* dxr = dx + i * D;
      const float r = rstd[i];
      float dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < D; j++) dot += w[j] * gr[j] * xr[j];
      const float c = r * r * dot / D;
#pragma omp simd
      for (int64_t j = 0; j < D; j++) {
        dxr[j] = r * (w[j] * gr[j] - xr[j] * c);
        pw[j] += gr[j] * xr[j] * r;
      }
    }
  }
  for (int64_t j = 0; j < D; j++) dw[j] = 0;
  for (int64_t b = 0; b < blocks; b++)
#pragma omp simd
    for (int64_t j = 0; j < D; j++) dw[j] += partial[b * D + j];
  return undefined(env);
}
MP_EXPORT("rmsNormBackward", RmsNormBackward);

}  // namespace
