// What the attention kernels share (attention.cc for training and prefill, decode-attention.cc for decoding):
// the head-size dispatch, the rotary rows (HF's rotate_half convention) and the lane padding of transposed keys.
#pragma once
#include <cstdint>

namespace heads {

// Kernels are instantiated for the usual head sizes (HD > 0: loops over a row fully unrolled, accumulators in
// registers) and once for any other size (HD = 0: the size is read at run time).
template <int HD>
inline int64_t headDim(int64_t hd) { return HD ? HD : hd; }

// x*cos + rotate_half(x)*sin for one row; rotate_half(x)[j] = -x[j+half] (j < half), x[j-half] otherwise.
template <int HD>
inline void ropeRow(const float* x, const float* c, const float* s, float* out, int64_t hdRun) {
  const int64_t half = headDim<HD>(hdRun) / 2;
#pragma omp simd
  for (int64_t j = 0; j < half; j++) {
    out[j] = x[j] * c[j] - x[j + half] * s[j];
    out[j + half] = x[j + half] * c[j + half] + x[j] * s[j + half];
  }
}

// The transpose of ropeRow's Jacobian: the gradient w.r.t. the pre-rotation row from the gradient g of the
// rotated one.
template <int HD>
inline void ropeRowBack(const float* g, const float* c, const float* s, float* out, int64_t hdRun) {
  const int64_t half = headDim<HD>(hdRun) / 2;
#pragma omp simd
  for (int64_t j = 0; j < half; j++) {
    out[j] = g[j] * c[j] + g[j + half] * s[j + half];
    out[j + half] = g[j + half] * c[j + half] - g[j] * s[j];
  }
}

// Positions of transposed keys are padded to a multiple of kLanes (one AVX-512 vector of floats) with zeros, so
// score loops need no tail (the padding's scores are computed and never read).
constexpr int64_t kLanes = 16;
inline int64_t padded(int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

}  // namespace heads
