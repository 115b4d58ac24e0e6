// Kernels of a decoding step (src/sample/blas-decode.ts), for the few rows of one step.
//
// Products: C [M, N] = A [M, K] x W, W the weights [K, N] (or, transposed, the tied embedding [N, K]). Unlike a
// BLAS sgemm, every output element is computed by one fixed sequence of operations that depends only on its row
// of A and its column of W: for W [K, N] a chain of fused multiply-adds over k = 0..K-1, for W [N, K] kV-lane
// partial sums over k then a fixed reduction. Not on M, not on the row's place in a tile, not on the thread
// count or which thread runs it. So a sequence's logits are the same bits whatever the batch (batch invariance)
// without padding the rows to a fixed group (src/sample/row-group.ts, what OpenBLAS needs), and a single row
// costs a matrix-vector product instead of a padded group's work. (A step's RMSNorm and SwiGLU are norm.cc's and
// swiglu.cc's forward kernels, which keep small calls on the calling thread.)
#include <algorithm>
#include <cmath>
#include <vector>
#if defined(__AVX512F__)
// gcc 12 warns, falsely, of an uninitialized variable inside the shuffle intrinsics (its _mm512_undefined_ps).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif
#include "common.h"

namespace {

#if defined(__AVX512F__)
constexpr int kV = 16;  // floats per vector register
constexpr int kMR = 6;  // rows per tile: 6 rows x 4 vectors = 24 accumulators of 32 registers (measured: 2.4x
constexpr int kNR = 64; // the speed of 4 rows here, which stall short of the FMA units' rate)
#elif defined(__AVX__)
constexpr int kV = 8;
constexpr int kMR = 4;
constexpr int kNR = 16;  // 4 x 2 = 8 accumulators of 16 registers
#else
constexpr int kV = 4;
constexpr int kMR = 4;
constexpr int kNR = 8;
#endif

// C[r][c] = sum_k A[r][k] W[k][c] for r < R, c < Cn (a compile-time width), k < K: one FMA chain per element,
// continued from C's values unless `first` (a chain cut into k blocks is the same chain).
template <int R, int Cn>
inline void tileN(const float* A, int64_t lda, const float* W, int64_t ldw, float* C, int64_t ldc, int64_t K, bool first) {
  float acc[R][Cn];
  for (int r = 0; r < R; r++)
#pragma omp simd
    for (int c = 0; c < Cn; c++) acc[r][c] = first ? 0.0f : C[r * ldc + c];
  for (int64_t k = 0; k < K; k++) {
    const float* w = W + k * ldw;
    for (int r = 0; r < R; r++) {
      const float a = A[r * lda + k];
#pragma omp simd
      for (int c = 0; c < Cn; c++) acc[r][c] = std::fma(a, w[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; r++)
#pragma omp simd
    for (int c = 0; c < Cn; c++) C[r * ldc + c] = acc[r][c];
}

#if defined(__AVX512F__)
// tileN with AVX-512 intrinsics for R rows and NV vectors of columns, the last one masked to `last` (gcc's code
// for tileN reloads W for every row and runs at less than half the FMA rate). The same chain per element.
template <int R, int NV, bool First, bool Masked>
inline void tileV(const float* A, int64_t lda, const float* W, int64_t ldw, float* C, int64_t ldc, int64_t K, __mmask16 last) {
  const auto mask = [&](int j) -> __mmask16 { return Masked && j == NV - 1 ? last : 0xFFFF; };
  __m512 acc[R][NV];
  for (int r = 0; r < R; r++)
    for (int j = 0; j < NV; j++)
      acc[r][j] = First ? _mm512_setzero_ps() : Masked ? _mm512_maskz_loadu_ps(mask(j), C + r * ldc + 16 * j) : _mm512_loadu_ps(C + r * ldc + 16 * j);
  for (int64_t k = 0; k < K; k++) {
    const float* w = W + k * ldw;
    __m512 wv[NV];
    for (int j = 0; j < NV; j++) wv[j] = Masked ? _mm512_maskz_loadu_ps(mask(j), w + 16 * j) : _mm512_loadu_ps(w + 16 * j);
    for (int r = 0; r < R; r++) {
      const __m512 a = _mm512_set1_ps(A[r * lda + k]);
      for (int j = 0; j < NV; j++) acc[r][j] = _mm512_fmadd_ps(a, wv[j], acc[r][j]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int j = 0; j < NV; j++)
      if (Masked) _mm512_mask_storeu_ps(C + r * ldc + 16 * j, mask(j), acc[r][j]);
      else _mm512_storeu_ps(C + r * ldc + 16 * j, acc[r][j]);
}

template <int R, int NV>
inline void tileV(const float* A, int64_t lda, const float* W, int64_t ldw, float* C, int64_t ldc, int64_t K, bool first, __mmask16 last) {
  const bool masked = last != 0xFFFF;
  if (first && !masked) tileV<R, NV, true, false>(A, lda, W, ldw, C, ldc, K, last);
  else if (!masked) tileV<R, NV, false, false>(A, lda, W, ldw, C, ldc, K, last);
  else if (first) tileV<R, NV, true, true>(A, lda, W, ldw, C, ldc, K, last);
  else tileV<R, NV, false, true>(A, lda, W, ldw, C, ldc, K, last);
}

// Columns [0, n) of a tile (n <= kNR) with R rows.
template <int R>
void tileCols(const float* A, int64_t lda, const float* W, int64_t ldw, float* C, int64_t ldc, int64_t K, int64_t n, bool first) {
  const __mmask16 last = n % 16 ? static_cast<__mmask16>((1u << (n % 16)) - 1) : 0xFFFF;
  switch ((n + 15) / 16) {
    case 4: tileV<R, 4>(A, lda, W, ldw, C, ldc, K, first, last); break;
    case 3: tileV<R, 3>(A, lda, W, ldw, C, ldc, K, first, last); break;
    case 2: tileV<R, 2>(A, lda, W, ldw, C, ldc, K, first, last); break;
    default: tileV<R, 1>(A, lda, W, ldw, C, ldc, K, first, last);
  }
}
#else
// Columns [0, n) of a tile (n <= kNR) with R rows: full vectors, then single columns (the same chains).
template <int R>
void tileCols(const float* A, int64_t lda, const float* W, int64_t ldw, float* C, int64_t ldc, int64_t K, int64_t n, bool first) {
  if (n == kNR) return tileN<R, kNR>(A, lda, W, ldw, C, ldc, K, first);
  int64_t c = 0;
  for (; c + kV <= n; c += kV) tileN<R, kV>(A, lda, W + c, ldw, C + c, ldc, K, first);
  for (; c < n; c++) tileN<R, 1>(A, lda, W + c, ldw, C + c, ldc, K, first);
}
#endif

void tile(const float* A, int64_t lda, const float* W, int64_t ldw, float* C, int64_t ldc, int64_t K, int64_t rows, int64_t n, bool first) {
  switch (rows) {
#if defined(__AVX512F__)
    case 6: tileCols<6>(A, lda, W, ldw, C, ldc, K, n, first); break;
    case 5: tileCols<5>(A, lda, W, ldw, C, ldc, K, n, first); break;
#endif
    case 4: tileCols<4>(A, lda, W, ldw, C, ldc, K, n, first); break;
    case 3: tileCols<3>(A, lda, W, ldw, C, ldc, K, n, first); break;
    case 2: tileCols<2>(A, lda, W, ldw, C, ldc, K, n, first); break;
    default: tileCols<1>(A, lda, W, ldw, C, ldc, K, n, first);
  }
}

// Rows of W per block: a block's panel (kKC x kNR floats, 64 KB with AVX-512) stays in cache across the row
// tiles, packed contiguous when there are several (rows of W [K, N] are N floats apart: a page each).
constexpr int64_t kKC = 256;
// Weights (N x K floats) from which the panels are packed.
constexpr int64_t kPackFloats = 1 << 20;

#if defined(__AVX512F__)
// The lane sums of 16 vectors in one: lane 4c + e of the result is the sum of v[c + 4e]'s 16 lanes, each added
// by the same fixed tree of pairwise additions (halves, then quarters, then pairs, then single lanes).
inline __m512 reduce16(const __m512* v) {
  __m512 h[8], q[4], p[2];
  // [x0 + x2, x1 + x3 | y0 + y2, y1 + y3] in 128-bit chunks: x = v[2i] in the low half, y = v[2i + 1] high.
  for (int i = 0; i < 8; i++)
    h[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  // One chunk per vector: chunk c of q[i] holds v[4i + c]'s four partial sums.
  for (int i = 0; i < 4; i++)
    q[i] = _mm512_add_ps(_mm512_shuffle_f32x4(h[2 * i], h[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(h[2 * i], h[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  // Chunk c of p[i]: two partials of v[8i + c], then two of v[8i + 4 + c].
  for (int i = 0; i < 2; i++)
    p[i] = _mm512_add_ps(_mm512_shuffle_ps(q[2 * i], q[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(q[2 * i], q[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  // Chunk c: the totals of v[c], v[4 + c], v[8 + c], v[12 + c].
  return _mm512_add_ps(_mm512_shuffle_ps(p[0], p[1], _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_ps(p[0], p[1], _MM_SHUFFLE(3, 1, 3, 1)));
}
#endif

// The dot products of RM rows of A (a, a + lda, ...) with RN rows of W (w, w + ldw, ...), all [K], into
// out[i * ldo + j]: per output, kV-lane partial sums (FMA chains over k = lane mod kV), added in a fixed order,
// then the last K mod kV terms. Several outputs at once only to overlap their chains and share loads: each
// output's operations are the same for any RM, RN.
template <int RM, int RN>
inline void dots(const float* a, int64_t lda, const float* w, int64_t ldw, int64_t K, float* out, int64_t ldo) {
  const int64_t K0 = K / kV * kV;
#if defined(__AVX512F__)
  // The same scheme with intrinsics (gcc keeps float arrays in memory), RM, RN <= 4: the 16 accumulators
  // v[4i + j] are summed together by reduce16, whose lane 4j + i ends up holding v[4i + j]'s total.
  static_assert(RM <= 4 && RN <= 4, "blocks of at most 4 x 4 outputs");
  __m512 v[16];
  for (int q = 0; q < 16; q++) v[q] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K0; k += kV) {
    __m512 wv[RN];
    for (int j = 0; j < RN; j++) wv[j] = _mm512_loadu_ps(w + j * ldw + k);
    for (int i = 0; i < RM; i++) {
      const __m512 av = _mm512_loadu_ps(a + i * lda + k);
      for (int j = 0; j < RN; j++) v[4 * i + j] = _mm512_fmadd_ps(av, wv[j], v[4 * i + j]);
    }
  }
  alignas(64) float t[16];
  _mm512_store_ps(t, reduce16(v));
  for (int i = 0; i < RM; i++)
    for (int j = 0; j < RN; j++) {
      float s = t[4 * j + i];
      for (int64_t k = K0; k < K; k++) s = std::fma(a[i * lda + k], w[j * ldw + k], s);
      out[i * ldo + j] = s;
    }
#else
  float acc[RM][RN][kV] = {};
  for (int64_t k = 0; k < K0; k += kV)
    for (int i = 0; i < RM; i++)
      for (int j = 0; j < RN; j++)
#pragma omp simd
        for (int c = 0; c < kV; c++) acc[i][j][c] = std::fma(a[i * lda + k + c], w[j * ldw + k + c], acc[i][j][c]);
  for (int i = 0; i < RM; i++)
    for (int j = 0; j < RN; j++) {
      float s = 0.0f;
      for (int c = 0; c < kV; c++) s += acc[i][j][c];
      for (int64_t k = K0; k < K; k++) s = std::fma(a[i * lda + k], w[j * ldw + k], s);
      out[i * ldo + j] = s;
    }
#endif
}

// Work (multiply-adds) below which the product runs on the calling thread: waking the OpenMP threads (passive
// waiting) costs tens of microseconds, more than a small product.
constexpr int64_t kParallelWork = 1 << 21;

// decodeMatmul(a, w, c, M, N, K, transW): c [M, N] = a [M, K] x w, w [K, N] (or [N, K] with transW: x w^T).
napi_value DecodeMatmul(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t na = 0, nw = 0, nc = 0;
  const float* A = a.array<float>(0, &na);
  const float* W = a.array<float>(1, &nw);
  float* C = a.array<float>(2, &nc);
  const int64_t M = a.integer(3), N = a.integer(4), K = a.integer(5);
  const bool trans = a.flag(6);
  if (!a.ok) return nullptr;
  if (M < 0 || N < 1 || K < 1 || static_cast<int64_t>(na) < M * K || static_cast<int64_t>(nw) < N * K || static_cast<int64_t>(nc) < M * N) {
    napi_throw_range_error(env, nullptr, "decodeMatmul: the arrays do not fit M, N, K");
    return nullptr;
  }
  const bool par = M * N * K > kParallelWork;
  if (trans) {
    // Blocks of 16 rows of W, each used for every row of A while in cache; threads split the blocks.
    const int64_t nb = (N + 15) / 16;
    const auto block = [&](int64_t j) {
      const int64_t n0 = j * 16, n1 = std::min(N, n0 + 16);
      int64_t m = 0;
      for (; m + 4 <= M; m += 4) {
        int64_t n = n0;
        for (; n + 4 <= n1; n += 4) dots<4, 4>(A + m * K, K, W + n * K, K, K, C + m * N + n, N);
        for (; n < n1; n++) dots<4, 1>(A + m * K, K, W + n * K, K, K, C + m * N + n, N);
      }
      for (; m < M; m++) {
        int64_t n = n0;
        for (; n + 4 <= n1; n += 4) dots<1, 4>(A + m * K, K, W + n * K, K, K, C + m * N + n, N);
        for (; n < n1; n++) dots<1, 1>(A + m * K, K, W + n * K, K, K, C + m * N + n, N);
      }
    };
    // (Not `parallel for if (par)`: a false `if` still costs libgomp ~2 us, common.h's parallelFor.)
    if (par) {
#pragma omp parallel for schedule(dynamic)
      for (int64_t j = 0; j < nb; j++) block(j);
    } else {
      for (int64_t j = 0; j < nb; j++) block(j);
    }
  } else {
    const int64_t nt = (N + kNR - 1) / kNR, mt = (M + kMR - 1) / kMR;
    // Per column tile, blocks of kKC rows of W, each used for every row tile; packed into `panel` (a thread's own
    // buffer, kept between calls) when there are several row tiles and W is large (more than 4 MB). Below that the
    // copy cost more than it saved (measured at 32 rows: 15% slower for the bench and wide models' matrices and
    // for 768 x 768, the same at 512 rows); the FMA chains are the same either way.
    const bool pack = mt > 1 && N * K > kPackFloats;
    const auto column = [&](int64_t j) {
      static thread_local std::vector<float> buffer;
      float* panel = nullptr;
      if (pack) {
        buffer.resize(kKC * kNR);
        panel = buffer.data();
      }
      const int64_t n0 = j * kNR, n = std::min<int64_t>(kNR, N - n0);
      for (int64_t k0 = 0; k0 < K; k0 += kKC) {
        const int64_t kc = std::min(kKC, K - k0);
        const float* w = W + k0 * N + n0;
        int64_t ldw = N;
        if (panel) {
          for (int64_t k = 0; k < kc; k++) std::copy_n(w + k * N, n, panel + k * kNR);
          w = panel, ldw = kNR;
        }
        for (int64_t m0 = 0; m0 < M; m0 += kMR)
          tile(A + m0 * K + k0, K, w, ldw, C + m0 * N + n0, N, kc, std::min<int64_t>(kMR, M - m0), n, k0 == 0);
      }
    };
    // Column tiles split among threads, dynamic: the calling thread starts on the tiles while the others wake up
    // (passive waiting).
    if (par) {
#pragma omp parallel for schedule(dynamic)
      for (int64_t j = 0; j < nt; j++) column(j);
    } else {
      for (int64_t j = 0; j < nt; j++) column(j);
    }
  }
  return undefined(env);
}
MP_EXPORT("decodeMatmul", DecodeMatmul);

}  // namespace

#if defined(__AVX512F__)
#pragma GCC diagnostic pop
#endif
