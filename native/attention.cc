// Fused causal attention with rotary positions (HF rotate_half) and grouped-query heads, forward and backward,
// on the projection layout [B*T, heads*hd] (row b*T+t, column head*hd+d) so that no transposes are needed.
// Flash-attention style: the forward keeps only the log-sum-exp of each score row, and the backward recomputes
// the probabilities from it, so memory stays O(B*H*T) instead of O(B*H*T^2). Only the causal half (j <= i) of
// each score matrix is ever computed.
//
// Packing: an optional segment array seg [B*T] (seg[b*T+t] = the position in row b where t's example starts)
// makes the attention block-diagonal: query i sees keys [seg[i], i] only, and its rotary position is i - seg[i].
// The score loops start at a block's smallest segment start rounded down to the lane width, so the masked
// blocks left of the diagonal are never computed: packed rows cost about what their examples would alone.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>
#include "common.h"
#include "heads.h"
#include "vecmath.h"

namespace {

using heads::headDim;
using heads::kLanes;
using heads::padded;
using heads::ropeRow;
using heads::ropeRowBack;

struct Dims {
  int64_t B, T, H, KV, hd;
  int64_t qStride() const { return H * hd; }
  int64_t kvStride() const { return KV * hd; }
};

// The rotary position of row t: t, or t - seg[t] when packed (seg: the row's segment starts, or nullptr).
inline int64_t ropePos(const int32_t* seg, int64_t t) { return seg ? t - seg[t] : t; }

// One head's rows of x (row stride `stride`, column offset `col`), rotated, into a packed [T, hd] block.
template <int HD>
void ropeHead(const float* x, int64_t stride, int64_t col, const float* cos, const float* sin, const Dims& d,
              int64_t b, const int32_t* seg, float* out) {
  const int64_t hd = headDim<HD>(d.hd);
  for (int64_t t = 0; t < d.T; t++) {
    const int64_t p = ropePos(seg, t);
    ropeRow<HD>(x + (b * d.T + t) * stride + col, cos + p * hd, sin + p * hd, out + t * hd, hd);
  }
}

// One head's rows of x (row stride `stride`, column offset `col`) transposed into [hd, Tp], zero-padded: the
// layout in which a query row's scores vectorize over keys.
void transposeHead(const float* x, int64_t stride, int64_t col, int64_t T, int64_t hd, float* out) {
  const int64_t Tp = padded(T);
  for (int64_t j = 0; j < hd; j++) {
    for (int64_t t = 0; t < T; t++) out[j * Tp + t] = x[t * stride + col + j];
    for (int64_t t = T; t < Tp; t++) out[j * Tp + t] = 0.0f;
  }
}

// Query rows handled together: each key (and, in the backward, each dk/dv row) is loaded once per block
// rather than once per query row.
constexpr int64_t kRows = 4;

// S[r][j] = scale * (q_r . k_j) for the block's rows and keys from <= j < n (from a multiple of kLanes, n
// rounded up to one), with kT the keys transposed [hd, Tp] and S [kRows, Tp]. A chunk of scores stays in
// registers across the hd products.
template <int HD>
inline void scoresBlock(const float* const* q, const float* kT, int64_t Tp, int64_t hdRun, int64_t from, int64_t n,
                        float scale, float* S) {
  const int64_t hd = headDim<HD>(hdRun);
  for (int64_t j0 = from; j0 < n; j0 += kLanes) {
    float acc[kRows][kLanes] = {};
    for (int64_t e = 0; e < hd; e++) {
      const float* kr = kT + e * Tp + j0;
      for (int64_t r = 0; r < kRows; r++) {
        const float qe = q[r][e];
#pragma omp simd
        for (int64_t c = 0; c < kLanes; c++) acc[r][c] += qe * kr[c];
      }
    }
    for (int64_t r = 0; r < kRows; r++)
#pragma omp simd
      for (int64_t c = 0; c < kLanes; c++) S[r * Tp + j0 + c] = acc[r][c] * scale;
  }
}

// out[e] = sum_{j < n} w[j] * x[j*stride + e].
template <int HD>
inline void weightedRows(const float* w, const float* x, int64_t stride, int64_t n, int64_t hdRun, float* out) {
  if constexpr (HD > 0) {
    float acc[HD] = {};
    for (int64_t j = 0; j < n; j++) {
      const float wj = w[j];
      const float* xr = x + j * stride;
#pragma omp simd
      for (int64_t e = 0; e < HD; e++) acc[e] += wj * xr[e];
    }
    std::copy_n(acc, HD, out);
  } else {
    std::fill_n(out, hdRun, 0.0f);
    for (int64_t j = 0; j < n; j++) {
      const float wj = w[j];
      const float* xr = x + j * stride;
#pragma omp simd
      for (int64_t e = 0; e < hdRun; e++) out[e] += wj * xr[e];
    }
  }
}

// Softmax of the first n scores in place, from their max; returns the log-sum-exp.
inline float softmaxRow(float* s, int64_t n) {
  float m = s[0];
  for (int64_t j = 1; j < n; j++) m = s[j] > m ? s[j] : m;
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; j++) {
    s[j] = vm::exp(s[j] - m);
    sum += s[j];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t j = 0; j < n; j++) s[j] *= inv;
  return m + std::log(sum);
}

struct Tensors {
  const float *q, *k, *v, *cos, *sin, *dy, *lse;
  float *out, *outLse, *dq, *dk, *dv;
  const int32_t* seg;  // [B*T] segment starts, or nullptr (one sequence per row)
};

// The first key any of a block's rows [i0, last) sees: the smallest segment start (0 unpacked).
inline int64_t firstKey(const int32_t* seg, int64_t i0, int64_t last) {
  if (!seg) return 0;
  int64_t lo = seg[i0];
  for (int64_t i = i0 + 1; i < last; i++) lo = std::min<int64_t>(lo, seg[i]);
  return lo;
}

template <int HD>
void forward(const Dims& d, const Tensors& x) {
  const int64_t T = d.T, hd = headDim<HD>(d.hd), Tp = padded(T), rep = d.H / d.KV;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
#pragma omp parallel
  {
    std::vector<float> Q(T * hd), K(T * hd), KT(hd * Tp), S(kRows * Tp), zero(hd);
#pragma omp for schedule(dynamic)
    for (int64_t bh = 0; bh < d.B * d.H; bh++) {
      const int64_t b = bh / d.H, h = bh % d.H, g = h / rep;
      const int32_t* seg = x.seg ? x.seg + b * T : nullptr;
      ropeHead<HD>(x.q, d.qStride(), h * hd, x.cos, x.sin, d, b, seg, Q.data());
      // The rotated keys are rebuilt for each query head sharing them: T*hd work next to the scores' T*T*hd.
      ropeHead<HD>(x.k, d.kvStride(), g * hd, x.cos, x.sin, d, b, seg, K.data());
      transposeHead(K.data(), hd, 0, T, hd, KT.data());
      const float* V = x.v + b * T * d.kvStride() + g * hd;
      for (int64_t i0 = 0; i0 < T; i0 += kRows) {
        const int64_t last = std::min(i0 + kRows, T);  // keys j < last are seen by some row of the block
        const int64_t lo = firstKey(seg, i0, last);     // ... and keys j >= lo
        const float* rows[kRows];
        for (int64_t r = 0; r < kRows; r++) rows[r] = i0 + r < T ? Q.data() + (i0 + r) * hd : zero.data();
        scoresBlock<HD>(rows, KT.data(), Tp, hd, lo / kLanes * kLanes, last, scale, S.data());
        for (int64_t i = i0; i < last; i++) {
          const int64_t start = seg ? seg[i] : 0;
          float* p = S.data() + (i - i0) * Tp + start;
          x.outLse[bh * T + i] = softmaxRow(p, i + 1 - start);
          weightedRows<HD>(p, V + start * d.kvStride(), d.kvStride(), i + 1 - start, hd,
                           x.out + (b * T + i) * d.qStride() + h * hd);
        }
      }
    }
  }
}

// Split by (batch, kv head), so that the query heads sharing a kv head accumulate its dk/dv in one thread's
// buffers, without atomics.
template <int HD>
void backward(const Dims& d, const Tensors& x) {
  const int64_t T = d.T, hd = headDim<HD>(d.hd), Tp = padded(T), rep = d.H / d.KV;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
#pragma omp parallel
  {
    std::vector<float> Q(T * hd), K(T * hd), KT(hd * Tp), VT(hd * Tp), dK(T * hd), dV(T * hd), dqr(hd);
    // Per block: probabilities, score gradients, and the block's rotated query and output-gradient rows; rows
    // past T (last block) stay zero and add nothing.
    std::vector<float> P(kRows * Tp), DS(kRows * Tp), Qb(kRows * hd), Ob(kRows * hd), zero(hd);
#pragma omp for schedule(dynamic)
    for (int64_t bg = 0; bg < d.B * d.KV; bg++) {
      const int64_t b = bg / d.KV, g = bg % d.KV;
      const int32_t* seg = x.seg ? x.seg + b * T : nullptr;
      ropeHead<HD>(x.k, d.kvStride(), g * hd, x.cos, x.sin, d, b, seg, K.data());
      transposeHead(K.data(), hd, 0, T, hd, KT.data());
      transposeHead(x.v + b * T * d.kvStride(), d.kvStride(), g * hd, T, hd, VT.data());
      std::fill(dK.begin(), dK.end(), 0.0f);
      std::fill(dV.begin(), dV.end(), 0.0f);
      for (int64_t h = g * rep; h < (g + 1) * rep; h++) {
        ropeHead<HD>(x.q, d.qStride(), h * hd, x.cos, x.sin, d, b, seg, Q.data());
        const float* lse = x.lse + (b * d.H + h) * T;
        for (int64_t i0 = 0; i0 < T; i0 += kRows) {
          const int64_t last = std::min(i0 + kRows, T);  // keys j < last are seen by some row of the block
          const int64_t lo = firstKey(seg, i0, last);     // ... and keys j >= lo
          const float *qs[kRows], *dos[kRows];
          for (int64_t r = 0; r < kRows; r++) {
            const int64_t i = i0 + r;
            qs[r] = i < T ? Q.data() + i * hd : zero.data();
            dos[r] = i < T ? x.dy + (b * T + i) * d.qStride() + h * hd : zero.data();
            std::copy_n(qs[r], hd, Qb.data() + r * hd);
            std::copy_n(dos[r], hd, Ob.data() + r * hd);
          }
          // The same score arithmetic as the forward, so P is its softmax up to exp's rounding.
          const int64_t from = lo / kLanes * kLanes;
          scoresBlock<HD>(qs, KT.data(), Tp, hd, from, last, scale, P.data());
          // dp_ij = dO_i . v_j; through the softmax, ds_ij = p_ij (dp_ij - sum_k p_ik dp_ik).
          scoresBlock<HD>(dos, VT.data(), Tp, hd, from, last, 1.0f, DS.data());
          // Each row's p and ds are made zero outside its keys [start, n) within [lo, last), the keys the dk/dv
          // update below reads.
          for (int64_t r = 0; r < kRows; r++) {
            float *p = P.data() + r * Tp, *ds = DS.data() + r * Tp;
            const int64_t i = i0 + r, n = std::min(i + 1, last);
            if (i >= T) {
              std::fill(p + lo, p + last, 0.0f);
              std::fill(ds + lo, ds + last, 0.0f);
              continue;
            }
            const int64_t start = seg ? seg[i] : 0;
            const float li = lse[i];
            float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (int64_t j = start; j < n; j++) {
              p[j] = vm::exp(p[j] - li);
              dot += p[j] * ds[j];
            }
#pragma omp simd
            for (int64_t j = start; j < n; j++) ds[j] = p[j] * (ds[j] - dot) * scale;
            std::fill(p + lo, p + start, 0.0f);
            std::fill(ds + lo, ds + start, 0.0f);
            std::fill(p + n, p + last, 0.0f);
            std::fill(ds + n, ds + last, 0.0f);
            weightedRows<HD>(ds + start, K.data() + start * hd, hd, n - start, hd, dqr.data());
            const int64_t pos = ropePos(seg, i);
            ropeRowBack<HD>(dqr.data(), x.cos + pos * hd, x.sin + pos * hd, x.dq + (b * T + i) * d.qStride() + h * hd, hd);
          }
          for (int64_t j = lo; j < last; j++) {
            float *dkr = dK.data() + j * hd, *dvr = dV.data() + j * hd;
#pragma omp simd
            for (int64_t e = 0; e < hd; e++) {
              float ak = dkr[e], av = dvr[e];
              for (int64_t r = 0; r < kRows; r++) {
                ak += DS[r * Tp + j] * Qb[r * hd + e];
                av += P[r * Tp + j] * Ob[r * hd + e];
              }
              dkr[e] = ak;
              dvr[e] = av;
            }
          }
        }
      }
      for (int64_t t = 0; t < T; t++) {
        const int64_t row = (b * T + t) * d.kvStride() + g * hd, pos = ropePos(seg, t);
        ropeRowBack<HD>(dK.data() + t * hd, x.cos + pos * hd, x.sin + pos * hd, x.dk + row, hd);
        std::copy_n(dV.data() + t * hd, hd, x.dv + row);
      }
    }
  }
}

// The backward written plainly, for testing the tiled one (attentionBackwardReference): per (batch, query head,
// query row), the probabilities recomputed from the scores in float64, then the textbook gradients
// dS = P (dP - rowsum(P dP)), dq = dS K, dk += dS^T q, dv += P^T dO, and the rotations undone. No blocks, no
// lanes, no saved log-sum-exp, no threads: slow and obviously right.
void referenceBackward(const Dims& d, const Tensors& x) {
  const int64_t T = d.T, hd = d.hd, rep = d.H / d.KV;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  std::vector<float> Q(T * hd), K(T * hd), row(hd);
  std::vector<double> P(T), dS(T), dK(T * hd), dV(T * hd), dq(hd);
  for (int64_t b = 0; b < d.B; b++)
    for (int64_t g = 0; g < d.KV; g++) {
      const int32_t* seg = x.seg ? x.seg + b * T : nullptr;
      ropeHead<0>(x.k, d.kvStride(), g * hd, x.cos, x.sin, d, b, seg, K.data());
      const float* V = x.v + b * T * d.kvStride() + g * hd;
      std::fill(dK.begin(), dK.end(), 0.0);
      std::fill(dV.begin(), dV.end(), 0.0);
      for (int64_t h = g * rep; h < (g + 1) * rep; h++) {
        ropeHead<0>(x.q, d.qStride(), h * hd, x.cos, x.sin, d, b, seg, Q.data());
        for (int64_t i = 0; i < T; i++) {
          const int64_t start = seg ? seg[i] : 0;
          const float* dO = x.dy + (b * T + i) * d.qStride() + h * hd;
          double m = -INFINITY, sum = 0, dot = 0;
          for (int64_t j = start; j <= i; j++) {
            double s = 0;
            for (int64_t e = 0; e < hd; e++) s += static_cast<double>(Q[i * hd + e]) * K[j * hd + e];
            P[j] = s * scale;
            m = std::max(m, P[j]);
          }
          for (int64_t j = start; j <= i; j++) sum += P[j] = std::exp(P[j] - m);
          for (int64_t j = start; j <= i; j++) {
            P[j] /= sum;
            double dp = 0;
            for (int64_t e = 0; e < hd; e++) dp += static_cast<double>(dO[e]) * V[j * d.kvStride() + e];
            dS[j] = dp;
            dot += P[j] * dp;
          }
          std::fill(dq.begin(), dq.end(), 0.0);
          for (int64_t j = start; j <= i; j++) {
            dS[j] = P[j] * (dS[j] - dot) * scale;
            for (int64_t e = 0; e < hd; e++) {
              dq[e] += dS[j] * K[j * hd + e];
              dK[j * hd + e] += dS[j] * Q[i * hd + e];
              dV[j * hd + e] += P[j] * dO[e];
            }
          }
          for (int64_t e = 0; e < hd; e++) row[e] = static_cast<float>(dq[e]);
          const int64_t pos = ropePos(seg, i);
          ropeRowBack<0>(row.data(), x.cos + pos * hd, x.sin + pos * hd, x.dq + (b * T + i) * d.qStride() + h * hd, hd);
        }
      }
      for (int64_t t = 0; t < T; t++) {
        const int64_t at = (b * T + t) * d.kvStride() + g * hd, pos = ropePos(seg, t);
        for (int64_t e = 0; e < hd; e++) row[e] = static_cast<float>(dK[t * hd + e]);
        ropeRowBack<0>(row.data(), x.cos + pos * hd, x.sin + pos * hd, x.dk + at, hd);
        for (int64_t e = 0; e < hd; e++) x.dv[at + e] = static_cast<float>(dV[t * hd + e]);
      }
    }
}

template <template <int> class Kernel>
void dispatch(const Dims& d, const Tensors& x) {
  switch (d.hd) {
    case 16: Kernel<16>::run(d, x); break;
    case 32: Kernel<32>::run(d, x); break;
    case 64: Kernel<64>::run(d, x); break;
    case 128: Kernel<128>::run(d, x); break;
    default: Kernel<0>::run(d, x);
  }
}
template <int HD>
struct Forward {
  static void run(const Dims& d, const Tensors& x) { forward<HD>(d, x); }
};
template <int HD>
struct Backward {
  static void run(const Dims& d, const Tensors& x) { backward<HD>(d, x); }
};

bool readDims(Args& a, size_t at, Dims& d) {
  d = {a.integer(at), a.integer(at + 1), a.integer(at + 2), a.integer(at + 3), a.integer(at + 4)};
  if (!a.ok) return false;
  if (d.B < 1 || d.T < 1 || d.KV < 1 || d.H < 1 || d.H % d.KV != 0 || d.hd < 2 || d.hd % 2 != 0) {
    a.fail("attention: bad shape");
    return false;
  }
  return true;
}

// Whether seg [n] is a valid segment array for B rows of T: n == B*T and, in each row, seg[t] == t (an example
// starts at t) or seg[t] == seg[t-1] (t continues the example of t-1), hence 0 <= seg[t] <= t. The kernels'
// memory safety rests on 0 <= seg[t] <= t. Throws a RangeError saying what is wrong, and returns false, if not.
bool checkSegments(Args& a, const int32_t* seg, size_t n, const Dims& d) {
  std::string msg;
  if (static_cast<int64_t>(n) != d.B * d.T) {
    msg = "attention: segments has length " + std::to_string(n) + ", expected B*T = " + std::to_string(d.B * d.T);
  } else {
    for (int64_t b = 0; b < d.B && msg.empty(); b++)
      for (int64_t t = 0; t < d.T; t++) {
        const int64_t s = seg[b * d.T + t];
        const bool inRange = s >= 0 && s <= t, continues = t > 0 && s == seg[b * d.T + t - 1];
        if (inRange && (s == t || continues)) continue;
        msg = "attention: segments[" + std::to_string(b * d.T + t) + "] = " + std::to_string(s) + " (row " +
              std::to_string(b) + ", position " + std::to_string(t) + ") " +
              (inRange ? "is neither " + std::to_string(t) + " (a new segment) nor segments[" +
                             std::to_string(b * d.T + t - 1) + "] (the previous position's segment)"
                       : "is not in [0, " + std::to_string(t) + "]");
        break;
      }
  }
  if (msg.empty()) return true;
  if (a.ok) napi_throw_range_error(a.env, nullptr, msg.c_str());
  a.ok = false;
  return false;
}

// The optional segment array at argument i: nullptr when absent (no argument, undefined, null, or empty), else
// checked against d (a.ok false and an exception pending when invalid).
const int32_t* readSegments(Args& a, size_t i, const Dims& d) {
  if (i >= a.argc) return nullptr;
  napi_valuetype type;
  if (napi_typeof(a.env, a.argv[i], &type) != napi_ok) {
    a.fail("bad segments argument");
    return nullptr;
  }
  if (type == napi_undefined || type == napi_null) return nullptr;
  size_t n = 0;
  const int32_t* seg = a.array<int32_t>(i, &n);
  if (!a.ok || n == 0) return nullptr;
  return checkSegments(a, seg, n, d) ? seg : nullptr;
}

// attentionForward(q, k, v, cos, sin, out, lse, B, T, H, KV, hd, segments?): out [B*T, H*hd] the merged
// context, lse [B, H, T] each score row's log-sum-exp (what the backward needs to rebuild the probabilities).
// segments (Int32Array [B*T]; absent, undefined or empty: one sequence per row) packs several examples per row.
napi_value AttentionForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  Tensors x{};
  size_t n[7] = {};
  x.q = a.array<float>(0, &n[0]), x.k = a.array<float>(1, &n[1]), x.v = a.array<float>(2, &n[2]);
  x.cos = a.array<float>(3, &n[3]), x.sin = a.array<float>(4, &n[4]);
  x.out = a.array<float>(5, &n[5]), x.outLse = a.array<float>(6, &n[6]);
  Dims d;
  if (!a.ok || !readDims(a, 7, d)) return nullptr;
  const char* k = "attentionForward";
  const int64_t rows = d.B * d.T;
  if (!a.holds(k, "q", n[0], rows * d.qStride()) || !a.holds(k, "k", n[1], rows * d.kvStride()) ||
      !a.holds(k, "v", n[2], rows * d.kvStride()) || !a.holds(k, "cos", n[3], d.T * d.hd) || !a.holds(k, "sin", n[4], d.T * d.hd) ||
      !a.holds(k, "out", n[5], rows * d.qStride()) || !a.holds(k, "lse", n[6], d.B * d.H * d.T))
    return nullptr;
  x.seg = readSegments(a, 12, d);
  if (!a.ok) return nullptr;
  dispatch<Forward>(d, x);
  return undefined(env);
}
MP_EXPORT("attentionForward", AttentionForward);

// attentionBackward(dy, q, k, v, cos, sin, lse, dq, dk, dv, B, T, H, KV, hd, segments?): the gradients w.r.t.
// the pre-rotation projections, in their layout; segments as the forward's.
// The arguments of attentionBackward and its reference (lse at index 6 for the tiled kernel only).
bool readBackward(Args& a, bool withLse, Tensors& x, Dims& d) {
  const size_t o = withLse ? 1 : 0;  // the reference takes no lse: indexes after it shift by one
  size_t n[10] = {};
  x.dy = a.array<float>(0, &n[0]), x.q = a.array<float>(1, &n[1]), x.k = a.array<float>(2, &n[2]), x.v = a.array<float>(3, &n[3]);
  x.cos = a.array<float>(4, &n[4]), x.sin = a.array<float>(5, &n[5]);
  if (withLse) x.lse = a.array<float>(6, &n[6]);
  x.dq = a.array<float>(6 + o, &n[7]), x.dk = a.array<float>(7 + o, &n[8]), x.dv = a.array<float>(8 + o, &n[9]);
  if (!a.ok || !readDims(a, 9 + o, d)) return false;
  const char* k = withLse ? "attentionBackward" : "attentionBackwardReference";
  const int64_t rows = d.B * d.T;
  if (!a.holds(k, "dy", n[0], rows * d.qStride()) || !a.holds(k, "q", n[1], rows * d.qStride()) ||
      !a.holds(k, "k", n[2], rows * d.kvStride()) || !a.holds(k, "v", n[3], rows * d.kvStride()) ||
      !a.holds(k, "cos", n[4], d.T * d.hd) || !a.holds(k, "sin", n[5], d.T * d.hd) ||
      (withLse && !a.holds(k, "lse", n[6], d.B * d.H * d.T)) || !a.holds(k, "dq", n[7], rows * d.qStride()) ||
      !a.holds(k, "dk", n[8], rows * d.kvStride()) || !a.holds(k, "dv", n[9], rows * d.kvStride()))
    return false;
  x.seg = readSegments(a, 14 + o, d);
  return a.ok;
}

napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  Tensors x{};
  Dims d;
  if (!readBackward(a, true, x, d)) return nullptr;
  dispatch<Backward>(d, x);
  return undefined(env);
}
MP_EXPORT("attentionBackward", AttentionBackward);

// attentionBackwardReference(dy, q, k, v, cos, sin, dq, dk, dv, B, T, H, KV, hd, segments?): attentionBackward's
// gradients by referenceBackward (no lse: it recomputes the softmax), for tests.
napi_value AttentionBackwardReference(napi_env env, napi_callback_info info) {
  Args a(env, info);
  Tensors x{};
  Dims d;
  if (!readBackward(a, false, x, d)) return nullptr;
  referenceBackward(d, x);
  return undefined(env);
}
MP_EXPORT("attentionBackwardReference", AttentionBackwardReference);

// attentionSegments(segments, B, T): throws a RangeError unless segments is a valid segment array for B rows of
// T (the kernels' own check). Its presence also says that this build's kernels take segments (an older one
// would ignore the argument).
napi_value AttentionSegments(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  const int32_t* seg = a.array<int32_t>(0, &n);
  Dims d{a.integer(1), a.integer(2), 1, 1, 2};
  if (!a.ok) return nullptr;
  if (d.B < 0 || d.T < 0) {
    a.fail("attention: bad shape");
    return nullptr;
  }
  if (!checkSegments(a, seg, n, d)) return nullptr;
  return undefined(env);
}
MP_EXPORT("attentionSegments", AttentionSegments);

}  // namespace
