// V8's Math.exp and Math.log (fdlibm's algorithms, as V8's src/base/ieee754.cc implements them), so that a native
// computation in float64 reproduces a JavaScript one bit for bit. Compiled without FMA contraction (each product
// and sum rounded as JavaScript rounds it).
//
// fdlibm: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at SunSoft, a Sun
// Microsystems, Inc. business. Permission to use, copy, modify, and distribute this software is freely granted,
// provided that this notice is preserved.
#pragma once
#include <cstdint>
#include <cstring>
#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>
#endif

namespace jsmath {

inline uint32_t hiWord(double x) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  return static_cast<uint32_t>(b >> 32);
}
inline uint32_t loWord(double x) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  return static_cast<uint32_t>(b);
}
inline double withHi(double x, uint32_t hi) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  b = (static_cast<uint64_t>(hi) << 32) | (b & 0xffffffffu);
  std::memcpy(&x, &b, 8);
  return x;
}
inline double fromWords(uint32_t hi, uint32_t lo) {
  const uint64_t b = (static_cast<uint64_t>(hi) << 32) | lo;
  double x;
  std::memcpy(&x, &b, 8);
  return x;
}

// exp(x): x = k ln2 + r, |r| <= ln2/2, exp(r) from a rational approximation, then scaled by 2^k.
__attribute__((optimize("fp-contract=off"))) inline double exp(double x) {
  const double halF[2] = {0.5, -0.5};
  const double ln2HI[2] = {6.93147180369123816490e-01, -6.93147180369123816490e-01};
  const double ln2LO[2] = {1.90821492927058770002e-10, -1.90821492927058770002e-10};
  const double invln2 = 1.44269504088896338700e+00;
  const double P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03, P3 = 6.61375632143793436117e-05,
               P4 = -1.65339022054652515390e-06, P5 = 4.13813679705723846039e-08;
  const double o_threshold = 7.09782712893383973096e+02, u_threshold = -7.45133219101941108420e+02;
  const double twom1000 = 9.33263618503218878990e-302;
  if (x == 1.0) return 2.718281828459045;  // V8 returns Math.E exactly (the approximation is 1 ulp above)
  double hi = 0, lo = 0;
  int k = 0;
  uint32_t hx = hiWord(x);
  const int xsb = (hx >> 31) & 1;
  hx &= 0x7fffffff;
  if (hx >= 0x40862E42) {  // |x| >= 709.78: overflow, underflow, inf or NaN
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | loWord(x)) != 0) return x + x;
      return xsb == 0 ? x : 0.0;
    }
    if (x > o_threshold) return __builtin_inf();
    if (x < u_threshold) return 0.0;
  }
  if (hx > 0x3fd62e42) {  // |x| > ln2/2
    if (hx < 0x3FF0A2B2) {  // and < 1.5 ln2
      hi = x - ln2HI[xsb];
      lo = ln2LO[xsb];
      k = 1 - xsb - xsb;
    } else {
      k = static_cast<int>(invln2 * x + halF[xsb]);
      const double t = k;
      hi = x - t * ln2HI[0];
      lo = t * ln2LO[0];
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {  // |x| < 2^-28
    return 1.0 + x;
  } else {
    k = 0;
  }
  const double t = x * x;
  const double twopk = k >= -1021 ? fromWords(0x3ff00000 + (k << 20), 0) : fromWords(0x3ff00000 + ((k + 1000) << 20), 0);
  const double c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  const double y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * fromWords(0x7fe00000, 0);
    return y * twopk;
  }
  return y * twopk * twom1000;
}

// exp without branches, for `#pragma omp simd` loops: the same operations as exp() on every lane, each lane
// taking its own case by selection (the same bits as exp() for every input, NaN aside, which stays a NaN).
#pragma omp declare simd notinbranch
__attribute__((optimize("fp-contract=off"))) inline double expSimd(double x) {
  const double P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03, P3 = 6.61375632143793436117e-05,
               P4 = -1.65339022054652515390e-06, P5 = 4.13813679705723846039e-08;
  const double ln2HI = 6.93147180369123816490e-01, ln2LO = 1.90821492927058770002e-10;
  uint64_t bits;
  std::memcpy(&bits, &x, 8);
  const uint32_t hx = static_cast<uint32_t>(bits >> 32) & 0x7fffffff;
  const bool neg = (bits >> 63) != 0;
  const bool reduce = hx > 0x3fd62e42;  // |x| > ln2/2
  const bool near = hx < 0x3FF0A2B2;    // |x| < 1.5 ln2
  const bool tiny = hx < 0x3e300000;    // |x| < 2^-28: 1 + x
  // k: +-1 near ln2, else the rounded x / ln2 (truncation of x/ln2 +- 1/2); 0 without reduction.
  const int32_t kFar = static_cast<int32_t>(1.44269504088896338700e+00 * x + (neg ? -0.5 : 0.5));
  const int32_t k = !reduce ? 0 : near ? (neg ? -1 : 1) : kFar;
  const double t0 = k;
  const double hi = !reduce ? x : near ? x - (neg ? -ln2HI : ln2HI) : x - t0 * ln2HI;
  const double lo = !reduce ? 0.0 : near ? (neg ? -ln2LO : ln2LO) : t0 * ln2LO;
  const double r = reduce ? hi - lo : x;
  const double t = r * r;
  const double c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  // exp()'s k == 0 form 1 - ((r c)/(c - 2) - r) is 1 - ((0 - q) - hi) with q = (r c)/(2 - c) and hi = r: one form.
  const double q = (r * c) / (2.0 - c);
  const double y = 1.0 - ((lo - q) - hi);
  const int64_t e = k == 1024 ? 1023 : k >= -1021 ? k : k + 1000;
  const uint64_t sb = static_cast<uint64_t>(0x3ff + e) << 52;
  double twopk;
  std::memcpy(&twopk, &sb, 8);
  const double scaled = k == 1024 ? y * 2.0 * twopk : k >= -1021 ? y * twopk : y * twopk * 9.33263618503218878990e-302;
  const double big = x > 7.09782712893383973096e+02 ? __builtin_inf() : 0.0;
  const bool out = x > 7.09782712893383973096e+02 || x < -7.45133219101941108420e+02;
  return x != x ? x + x : out ? big : tiny ? 1.0 + x : x == 1.0 ? 2.718281828459045 : scaled;
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
// expSimd on 8 lanes with AVX-512 intrinsics: gcc 12 does not vectorize expSimd's selections (its "vectorized"
// loop and its simd clone both run the lanes one by one, ~8 ns an element). The same operations as expSimd, each
// rounded as it is (products and sums apart: no FMA), every lane taking its own case by mask; the one reordering,
// y * twopk * 1.0 for the common case, multiplies by 1.0 exactly, and keeps the tiny-result scaling from running
// (and making subnormals) on lanes that do not take it.
__attribute__((optimize("fp-contract=off"))) inline __m512d exp8(__m512d x) {
  const __m512d P1 = _mm512_set1_pd(1.66666666666666019037e-01), P2 = _mm512_set1_pd(-2.77777777770155933842e-03),
                P3 = _mm512_set1_pd(6.61375632143793436117e-05), P4 = _mm512_set1_pd(-1.65339022054652515390e-06),
                P5 = _mm512_set1_pd(4.13813679705723846039e-08);
  const __m512d ln2HI = _mm512_set1_pd(6.93147180369123816490e-01), ln2LO = _mm512_set1_pd(1.90821492927058770002e-10);
  const __m512d one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd();
  const __m512i bits = _mm512_castpd_si512(x);
  const __m512i hx = _mm512_and_si512(_mm512_srli_epi64(bits, 32), _mm512_set1_epi64(0x7fffffff));
  const __mmask8 neg = _mm512_cmplt_epi64_mask(bits, _mm512_setzero_si512());
  const __mmask8 reduce = _mm512_cmpgt_epi64_mask(hx, _mm512_set1_epi64(0x3fd62e42));
  const __mmask8 near = _mm512_cmplt_epi64_mask(hx, _mm512_set1_epi64(0x3FF0A2B2));
  const __mmask8 tiny = _mm512_cmplt_epi64_mask(hx, _mm512_set1_epi64(0x3e300000));
  const __m512d half = _mm512_mask_blend_pd(neg, _mm512_set1_pd(0.5), _mm512_set1_pd(-0.5));
  // Truncation, as the int32 cast (the same value for every x that reaches a result through k).
  const __m512i kFar = _mm512_cvttpd_epi64(_mm512_add_pd(_mm512_mul_pd(_mm512_set1_pd(1.44269504088896338700e+00), x), half));
  const __m512i kNear = _mm512_mask_blend_epi64(neg, _mm512_set1_epi64(1), _mm512_set1_epi64(-1));
  const __m512i k = _mm512_maskz_mov_epi64(reduce, _mm512_mask_blend_epi64(near, kFar, kNear));
  const __m512d t0 = _mm512_cvtepi64_pd(k);
  const __m512d hiFar = _mm512_sub_pd(x, _mm512_mul_pd(t0, ln2HI));
  const __m512d hiNear = _mm512_sub_pd(x, _mm512_mask_blend_pd(neg, ln2HI, _mm512_sub_pd(zero, ln2HI)));
  const __m512d hi = _mm512_mask_blend_pd(reduce, x, _mm512_mask_blend_pd(near, hiFar, hiNear));
  const __m512d loNear = _mm512_mask_blend_pd(neg, ln2LO, _mm512_sub_pd(zero, ln2LO));
  const __m512d lo = _mm512_maskz_mov_pd(reduce, _mm512_mask_blend_pd(near, _mm512_mul_pd(t0, ln2LO), loNear));
  const __m512d r = _mm512_mask_blend_pd(reduce, x, _mm512_sub_pd(hi, lo));
  const __m512d t = _mm512_mul_pd(r, r);
  __m512d p = _mm512_add_pd(P4, _mm512_mul_pd(t, P5));
  p = _mm512_add_pd(P3, _mm512_mul_pd(t, p));
  p = _mm512_add_pd(P2, _mm512_mul_pd(t, p));
  p = _mm512_add_pd(P1, _mm512_mul_pd(t, p));
  const __m512d c = _mm512_sub_pd(r, _mm512_mul_pd(t, p));
  const __m512d q = _mm512_div_pd(_mm512_mul_pd(r, c), _mm512_sub_pd(_mm512_set1_pd(2.0), c));
  const __m512d y = _mm512_sub_pd(one, _mm512_sub_pd(_mm512_sub_pd(lo, q), hi));
  const __mmask8 top = _mm512_cmpeq_epi64_mask(k, _mm512_set1_epi64(1024));
  const __mmask8 normal = _mm512_cmpge_epi64_mask(k, _mm512_set1_epi64(-1021));
  const __m512i e = _mm512_mask_blend_epi64(top, _mm512_mask_blend_epi64(normal, _mm512_add_epi64(k, _mm512_set1_epi64(1000)), k), _mm512_set1_epi64(1023));
  const __m512d twopk = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(e, _mm512_set1_epi64(0x3ff)), 52));
  // expSimd: k == 1024: y * 2 * twopk; k >= -1021: y * twopk; else y * twopk * 2^-1000.
  const __m512d yy = _mm512_mask_blend_pd(top, y, _mm512_mul_pd(y, _mm512_set1_pd(2.0)));
  const __m512d scale = _mm512_mask_blend_pd(normal, _mm512_set1_pd(9.33263618503218878990e-302), one);
  __m512d res = _mm512_mul_pd(_mm512_mul_pd(yy, twopk), scale);
  res = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, one, _CMP_EQ_OQ), res, _mm512_set1_pd(2.718281828459045));
  res = _mm512_mask_blend_pd(tiny, res, _mm512_add_pd(one, x));
  const __mmask8 over = _mm512_cmp_pd_mask(x, _mm512_set1_pd(7.09782712893383973096e+02), _CMP_GT_OQ);
  const __mmask8 under = _mm512_cmp_pd_mask(x, _mm512_set1_pd(-7.45133219101941108420e+02), _CMP_LT_OQ);
  res = _mm512_mask_blend_pd(under, res, zero);
  res = _mm512_mask_blend_pd(over, res, _mm512_set1_pd(__builtin_inf()));
  return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), res, _mm512_add_pd(x, x));
}
#endif

// log(x): x = 2^k (1 + f), log(1 + f) = 2s + s R(s^2) with s = f / (2 + f).
__attribute__((optimize("fp-contract=off"))) inline double log(double x) {
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10, two54 = 1.80143985094819840000e+16;
  const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
               Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
               Lg7 = 1.479819860511658591e-01;
  int32_t hx = static_cast<int32_t>(hiWord(x));
  const uint32_t lx = loWord(x);
  int k = 0;
  if (hx < 0x00100000) {  // x < 2^-1022
    if (((hx & 0x7fffffff) | lx) == 0) return -__builtin_inf();
    if (hx < 0) return __builtin_nan("");
    k -= 54;
    x *= two54;
    hx = static_cast<int32_t>(hiWord(x));
  }
  if (hx >= 0x7ff00000) return x + x;
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  int32_t i = (hx + 0x95f64) & 0x100000;
  x = withHi(x, static_cast<uint32_t>(hx | (i ^ 0x3ff00000)));  // normalize x or x/2
  k += (i >> 20);
  const double f = x - 1.0;
  const double dk = k;
  if ((0x000fffff & (2 + hx)) < 3) {  // -2^-20 <= f < 2^-20
    if (f == 0.0) return k == 0 ? 0.0 : dk * ln2_hi + dk * ln2_lo;
    const double R = f * f * (0.5 - 0.33333333333333333 * f);
    return k == 0 ? f - R : dk * ln2_hi - ((R - dk * ln2_lo) - f);
  }
  const double s = f / (2.0 + f);
  const double z = s * s;
  i = hx - 0x6147a;
  const double w = z * z;
  const int32_t j = 0x6b851 - hx;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  i |= j;
  const double R = t2 + t1;
  if (i > 0) {
    const double hfsq = 0.5 * f * f;
    return k == 0 ? f - (hfsq - s * (hfsq + R)) : dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
  }
  return k == 0 ? f - s * (f - R) : dk * ln2_hi - ((s * (f - R) - dk * ln2_lo) - f);
}

}  // namespace jsmath
