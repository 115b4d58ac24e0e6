// The optimizer's per-parameter work, in place on the wasm heap: the squared norm for clipping, then one fused
// AdamW update (torch.optim.AdamW's arithmetic, in the same order) instead of ~12 tfjs kernels and 3 fresh
// tensors per parameter per step.
#include <cmath>
#include "common.h"

namespace {

// sumSquares(g) -> number: sum of g^2, accumulated in double.
napi_value SumSquares(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  const float* g = a.array<float>(0, &n);
  if (!a.ok) return nullptr;
  double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) if (n > 65536)
  for (size_t i = 0; i < n; i++) s += static_cast<double>(g[i]) * g[i];
  napi_value out;
  NAPI_CALL(env, napi_create_double(env, s, &out));
  return out;
}
MP_EXPORT("sumSquares", SumSquares);

// adamw(p, g, m, v, coef, b1, b2, eps, decay, stepSize, bc2Sqrt): with g' = g * coef (clipping),
// m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2; p = p * decay - stepSize * m / (sqrt(v) / bc2Sqrt + eps).
napi_value AdamW(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0, ng = 0, nm = 0, nv = 0;
  float* p = a.array<float>(0, &n);
  const float* g = a.array<float>(1, &ng);
  float* m = a.array<float>(2, &nm);
  float* v = a.array<float>(3, &nv);
  const float coef = a.num(4), b1 = a.num(5), b2 = a.num(6), eps = a.num(7), decay = a.num(8), step = a.num(9),
              bc2 = a.num(10);
  if (!a.ok) return nullptr;
  if (ng != n || nm != n || nv != n) {
    napi_throw_range_error(env, nullptr, "adamw: parameter, gradient and moments differ in size");
    return nullptr;
  }
  const float c1 = 1 - b1, c2 = 1 - b2;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (size_t i = 0; i < n; i++) {
    const float gi = g[i] * coef;
    const float mi = m[i] * b1 + gi * c1;
    const float vi = v[i] * b2 + gi * gi * c2;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - mi / (std::sqrt(vi) / bc2 + eps) * step;
  }
  return undefined(env);
}
MP_EXPORT("adamw", AdamW);

}  // namespace
