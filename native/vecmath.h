// Branch-free float exp and sigmoid that gcc vectorizes inside `#pragma omp simd` loops. libm's expf does not
// vectorize without -ffast-math (errno and exactness rules), and exp dominates softmax and SwiGLU.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace vm {

// Cephes expf: x = n ln2 + r with |r| <= ln2/2, exp(r) by a degree-6 polynomial, 2^n through the exponent bits.
// Relative error about 1e-7. Below the normal range the result is 0 (masked scores stay exactly 0, no
// denormals), above it inf (the callers take exp of non-positive values, or of -x inside 1 / (1 + e)).
#pragma omp declare simd notinbranch
inline float exp(float x) {
  const float hi = 88.3762626647949f, lo = -87.3365447504f;
  const bool under = x < lo;
  x = x > hi ? hi : x;
  x = under ? lo : x;
  // Round to nearest by the 1.5 * 2^23 trick: exact IEEE arithmetic, so it survives without -ffast-math.
  const float magic = 12582912.0f;
  float n = std::fma(x, 1.44269504088896341f, magic) - magic;
  float r = std::fma(n, -0.693359375f, x);
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  p = std::fma(p * r, r, r) + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return under ? 0.0f : p * scale;
}

#pragma omp declare simd notinbranch
inline float sigmoid(float x) { return 1.0f / (1.0f + vm::exp(-x)); }

}  // namespace vm
