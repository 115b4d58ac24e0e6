// Same-shape float32 addition: the residual stream and the gradient accumulation of the backward pass. XNNPACK's
// add in tfjs-wasm ran at ~3 GB/s here; a plain vectorized loop on the OpenMP threads is memory-bound.
#include <algorithm>
#include "common.h"

namespace {

// add(a, b, out): out = a + b, all of one length.
napi_value Add(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0, nb = 0, no = 0;
  const float* x = a.array<float>(0, &n);
  const float* y = a.array<float>(1, &nb);
  float* out = a.array<float>(2, &no);
  if (!a.ok) return nullptr;
  if (nb != n || no != n) {
    napi_throw_range_error(env, nullptr, "add: operands differ in length");
    return nullptr;
  }
  // Blocks of 4096 on the threads past 65536 elements (a sum rounds the same in any loop).
  const int64_t blocks = (static_cast<int64_t>(n) + 4095) / 4096;
  parallelFor(blocks, n > 65536, [&](int64_t b) {
    const size_t end = std::min(n, static_cast<size_t>(b + 1) * 4096);
#pragma omp simd
    for (size_t i = static_cast<size_t>(b) * 4096; i < end; i++) out[i] = x[i] + y[i];
  });
  return undefined(env);
}
MP_EXPORT("add", Add);

}  // namespace
