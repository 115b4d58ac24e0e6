// Row gather and its gradient (scatter-add) for the embedding table: the wasm backend's GatherV2 copies element
// by element (~15 ms for 2048 rows of 128 floats) and has no UnsortedSegmentSum at all.
#include <cstring>
#include <string>
#include "common.h"

namespace {

// gatherRows(table [rows, inner], ids int32 [n], out [n, inner], rows, inner): throws on an id outside [0, rows).
napi_value GatherRows(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0, nt = 0, no = 0;
  const float* table = a.array<float>(0, &nt);
  const int32_t* ids = a.array<int32_t>(1, &n);
  float* out = a.array<float>(2, &no);
  const int64_t rows = a.integer(3), inner = a.integer(4);
  const char* k = "gatherRows";
  if (!a.atLeast(k, "rows", rows, 0) || !a.atLeast(k, "inner", inner, 0) || !a.holds(k, "table", nt, rows * inner) ||
      !a.holds(k, "out", no, static_cast<int64_t>(n) * inner))
    return nullptr;
  for (size_t i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= rows) {
      std::string msg = "gather: index " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                        " is not in [0, " + std::to_string(rows - 1) + "]";
      napi_throw_range_error(env, nullptr, msg.c_str());
      return nullptr;
    }
  parallelFor(static_cast<int64_t>(n), static_cast<int64_t>(n) * inner > 65536,
              [&](int64_t i) { std::memcpy(out + i * inner, table + ids[i] * inner, inner * sizeof(float)); });
  return undefined(env);
}
MP_EXPORT("gatherRows", GatherRows);

// scatterAddRows(x [n, inner], ids int32 [n], out [segments, inner], segments, inner): out = 0, then
// out[ids[i]] += x[i]; ids outside [0, segments) are dropped, as TensorFlow's UnsortedSegmentSum does. Threads
// split the columns, so every output element is summed in input order by one thread (deterministic).
napi_value ScatterAddRows(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0, nx = 0, total = 0;
  const float* x = a.array<float>(0, &nx);
  const int32_t* ids = a.array<int32_t>(1, &n);
  float* out = a.array<float>(2, &total);
  const int64_t segments = a.integer(3), inner = a.integer(4);
  const char* k = "scatterAddRows";
  if (!a.atLeast(k, "segments", segments, 0) || !a.atLeast(k, "inner", inner, 0) || !a.holds(k, "x", nx, static_cast<int64_t>(n) * inner) ||
      !a.holds(k, "out", total, segments * inner))
    return nullptr;
  std::memset(out, 0, total * sizeof(float));
  const int64_t chunk = 16;
  const int64_t blocks = (inner + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n * inner > 65536)
  for (int64_t blk = 0; blk < blocks; blk++) {
    const int64_t c0 = blk * chunk, c1 = c0 + chunk < inner ? c0 + chunk : inner;
    for (size_t i = 0; i < n; i++) {
      const int32_t s = ids[i];
      if (s < 0 || s >= segments) continue;
      float* o = out + s * inner;
      const float* xi = x + i * inner;
      for (int64_t c = c0; c < c1; c++) o[c] += xi[c];
    }
  }
  return undefined(env);
}
MP_EXPORT("scatterAddRows", ScatterAddRows);

}  // namespace
