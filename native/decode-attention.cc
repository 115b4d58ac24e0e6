// Single-token attention against the KV cache, for decoding (src/sample/kv-cache.ts holds the caches and the
// JavaScript reference of this kernel). Each sequence feeds one new token: its query row is rotated (rotary
// position = its cache length), its key (rotated) and value are stored in its own cache, and the query attends
// to every cached position: the prompt's (a cache shared read-only by the n samples of a prompt) and then the
// sequence's own generated ones. Grouped-query heads read the cache of their key/value head.
//
// Cache layout, per layer of a buffer holding n positions padded to Lp = a multiple of kLanes: keys transposed
// [KV][hd][Lp] (rotated), then values [KV][Lp][hd]. Transposed keys make a query's scores vectorize over
// positions (attention.cc's transposeHead, kept instead of rebuilt every step).
//
// Batch invariance: each (sequence, head) is computed by one thread with a fixed sequence of operations that
// depends only on that sequence's cache and rows, never on the other sequences, the batch size or the thread
// count; so a sequence's context row is the same bits whatever else is decoded with it.
#include <algorithm>
#include <cmath>
#include <cstring>
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

// Positions are padded to a multiple of kLanes (one vector); scores run in blocks of kBlock positions (four
// vectors of independent FMA chains: one would wait on the FMA latency), then single vectors.
constexpr int64_t kBlock = 64;

struct Dims {
  int64_t H, KV, hd, layers;
};

// One part of a sequence's cache in one layer: the prompt's or its own.
struct Part {
  const float* kT;  // [KV][hd][Lp] at this layer
  const float* v;   // [KV][Lp][hd] at this layer
  int64_t Lp;
};

struct Seq {
  Part prompt, own;
  int64_t P, n;  // prompt length, own positions before this token
  float* ownK;   // writable views of own (the new token's key column and value row)
  float* ownV;
};

// S[j0 + c] = scale * (q . k_{j0 + c}) for c < W, with kT [hd][Lp].
template <int HD, int W>
inline void scoreBlock(const float* q, const float* kT, int64_t Lp, int64_t j0, int64_t hdRun, float scale, float* S) {
  const int64_t hd = headDim<HD>(hdRun);
  float acc[W] = {};
  for (int64_t e = 0; e < hd; e++) {
    const float qe = q[e];
    const float* kr = kT + e * Lp + j0;
#pragma omp simd
    for (int64_t c = 0; c < W; c++) acc[c] = std::fma(qe, kr[c], acc[c]);
  }
#pragma omp simd
  for (int64_t c = 0; c < W; c++) S[j0 + c] = acc[c] * scale;
}

// S[j] = scale * (q . k_j) for j < n (rounded up to kLanes), with kT [hd][Lp]. A score's operations are the
// same in either block width.
template <int HD>
inline void scores(const float* q, const float* kT, int64_t Lp, int64_t n, int64_t hdRun, float scale, float* S) {
  int64_t j0 = 0;
  for (; j0 + kBlock <= n; j0 += kBlock) scoreBlock<HD, kBlock>(q, kT, Lp, j0, hdRun, scale, S);
  for (; j0 < n; j0 += kLanes) scoreBlock<HD, kLanes>(q, kT, Lp, j0, hdRun, scale, S);
}

// acc[e] += sum_{j < n} w[j] * v[j*hd + e], in order of j.
template <int HD>
inline void weighted(const float* w, const float* v, int64_t n, int64_t hdRun, float* acc) {
  const int64_t hd = headDim<HD>(hdRun);
  for (int64_t j = 0; j < n; j++) {
    const float wj = w[j];
    const float* vr = v + j * hd;
#pragma omp simd
    for (int64_t e = 0; e < hd; e++) acc[e] = std::fma(wj, vr[e], acc[e]);
  }
}

// Store the new key (rotated) and value of sequence s, kv head g, at own position s.n.
template <int HD>
__attribute__((noinline)) void store(const Dims& d, const Seq& s, int64_t g, const float* k, const float* v, const float* cos, const float* sin) {
  const int64_t hd = headDim<HD>(d.hd), pos = s.P + s.n, Lp = s.own.Lp;
  float rot[HD ? HD : 512];
  ropeRow<HD>(k + g * hd, cos + pos * hd, sin + pos * hd, rot, hd);
  float* kT = s.ownK + g * hd * Lp;
  for (int64_t e = 0; e < hd; e++) kT[e * Lp + s.n] = rot[e];
  std::memcpy(s.ownV + (g * Lp + s.n) * hd, v + g * hd, hd * sizeof(float));
}

// The context row of sequence s, query head h, into out [hd]. S: scratch for P + own.Lp scores.
template <int HD>
__attribute__((noinline)) void attend(const Dims& d, const Seq& s, int64_t h, const float* q, const float* cos, const float* sin, float* S, float* out) {
  const int64_t hd = headDim<HD>(d.hd), g = h / (d.H / d.KV), pos = s.P + s.n, T = pos + 1, own = s.n + 1;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  float qr[HD ? HD : 512];
  ropeRow<HD>(q + h * hd, cos + pos * hd, sin + pos * hd, qr, hd);
  // Prompt positions 0..P-1, then own positions at P.. (which overwrite the prompt block's padding).
  if (s.P) scores<HD>(qr, s.prompt.kT + g * hd * s.prompt.Lp, s.prompt.Lp, s.P, hd, scale, S);
  scores<HD>(qr, s.own.kT + g * hd * s.own.Lp, s.own.Lp, own, hd, scale, S + s.P);
  float m = S[0];
  for (int64_t j = 1; j < T; j++) m = S[j] > m ? S[j] : m;
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < T; j++) {
    S[j] = vm::exp(S[j] - m);
    sum += S[j];
  }
  float acc[HD ? HD : 512] = {};
  if (s.P) weighted<HD>(S, s.prompt.v + g * s.prompt.Lp * hd, s.P, hd, acc);
  weighted<HD>(S + s.P, s.own.v + g * s.own.Lp * hd, own, hd, acc);
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t e = 0; e < hd; e++) out[e] = acc[e] * inv;
}

struct Batch {
  Dims d;
  std::vector<Seq> seqs;
  const float *q, *k, *v, *cos, *sin;
  float* out;
  int64_t rows;  // rows of q/out (seqs.size() and padding rows after them)
  int64_t maxScores;
  int64_t work;  // about the multiply-adds of the step, to decide whether threads pay
};

template <int HD>
void run(const Batch& b) {
  const Dims& d = b.d;
  const int64_t n = static_cast<int64_t>(b.seqs.size()), hd = headDim<HD>(d.hd);
  const auto storeOne = [&](int64_t i) {
    store<HD>(d, b.seqs[i / d.KV], i % d.KV, b.k + (i / d.KV) * d.KV * hd, b.v + (i / d.KV) * d.KV * hd, b.cos, b.sin);
  };
  const auto attendOne = [&](int64_t i, float* S) {
    const int64_t r = i / d.H, h = i % d.H;
    attend<HD>(d, b.seqs[r], h, b.q + r * d.H * hd, b.cos, b.sin, S, b.out + r * d.H * hd + h * hd);
  };
  // A parallel region wakes the OpenMP threads (passive waiting, tens of microseconds on a busy machine): worth it
  // only past some work (decode.cc's threshold for products). Below it a plain loop: even a region with a false
  // `if` costs libgomp ~2 us (common.h's parallelFor).
  if (b.work > (1 << 21)) {
#pragma omp parallel
    {
      std::vector<float> S(b.maxScores);
#pragma omp for schedule(static)
      for (int64_t i = 0; i < n * d.KV; i++) storeOne(i);
#pragma omp for schedule(dynamic)
      for (int64_t i = 0; i < n * d.H; i++) attendOne(i, S.data());
    }
  } else {
    static thread_local std::vector<float> S;
    if (static_cast<int64_t>(S.size()) < b.maxScores) S.resize(b.maxScores);
    for (int64_t i = 0; i < n * d.KV; i++) storeOne(i);
    for (int64_t i = 0; i < n * d.H; i++) attendOne(i, S.data());
  }
  std::fill(b.out + n * d.H * hd, b.out + b.rows * d.H * hd, 0.0f);
}

void dispatch(const Batch& b) {
  switch (b.d.hd) {
    case 32: run<32>(b); break;
    case 64: run<64>(b); break;
    case 128: run<128>(b); break;
    default: run<0>(b);
  }
}

bool rangeError(Args& a, const std::string& msg) {
  if (a.ok) napi_throw_range_error(a.env, nullptr, ("decodeAttention: " + msg).c_str());
  a.ok = false;
  return false;
}

// The Float32Array at index i of the JS array arr, with its length.
float* element(Args& a, napi_value arr, uint32_t i, size_t* len) {
  napi_value el;
  napi_typedarray_type type;
  void* data;
  if (napi_get_element(a.env, arr, i, &el) != napi_ok ||
      napi_get_typedarray_info(a.env, el, &type, len, &data, nullptr, nullptr) != napi_ok || type != napi_float32_array) {
    a.fail("decodeAttention: caches must be an array of Float32Arrays");
    return nullptr;
  }
  return static_cast<float*>(data);
}

// decodeAttention(layer, q, k, v, out, cos, sin, caches, meta, H, KV, hd, layers):
// q [rows, H*hd], k/v [rows, KV*hd] the new tokens' projections (pre-rotation); out [rows, H*hd] the context
// rows (rows past the sequences are zeroed). caches: [prompt0, own0, prompt1, own1, ...] the cache buffers of
// the sequences (each [layers][keys KV*hd*Lp | values KV*Lp*hd], Lp = its positions padded to a multiple of 16);
// meta Int32Array [P0, n0, C0, P1, n1, C1, ...]: prompt length, own positions written, own capacity. cos/sin
// [positions, hd]. Writes sequence i's new key and value at own position n_i of `layer`.
napi_value DecodeAttention(napi_env env, napi_callback_info info) {
  Args a(env, info);
  Batch b;
  const int64_t layer = a.integer(0);
  size_t nq = 0, nk = 0, nv = 0, no = 0, ncos = 0, nsin = 0, nmeta = 0;
  b.q = a.array<float>(1, &nq), b.k = a.array<float>(2, &nk), b.v = a.array<float>(3, &nv);
  b.out = a.array<float>(4, &no);
  b.cos = a.array<float>(5, &ncos), b.sin = a.array<float>(6, &nsin);
  const int32_t* meta = a.array<int32_t>(8, &nmeta);
  b.d = {a.integer(9), a.integer(10), a.integer(11), a.integer(12)};
  if (!a.ok) return nullptr;
  const Dims& d = b.d;
  if (d.KV < 1 || d.H < 1 || d.H % d.KV != 0 || d.hd < 2 || d.hd % 2 != 0 || d.hd > 512 || d.layers < 1 || layer < 0 || layer >= d.layers) {
    rangeError(a, "bad shape");
    return nullptr;
  }
  bool isArray = false;
  uint32_t nc = 0;
  if (napi_is_array(env, a.argv[7], &isArray) != napi_ok || !isArray || napi_get_array_length(env, a.argv[7], &nc) != napi_ok || nc % 2) {
    a.fail("decodeAttention: caches must be an array of Float32Arrays, two per sequence");
    return nullptr;
  }
  const int64_t n = nc / 2, qRow = d.H * d.hd, kvRow = d.KV * d.hd;
  b.rows = static_cast<int64_t>(nq) / qRow;
  if (static_cast<int64_t>(nq) != b.rows * qRow || static_cast<int64_t>(no) != b.rows * qRow || n > b.rows ||
      static_cast<int64_t>(nk) < n * kvRow || static_cast<int64_t>(nv) < n * kvRow || static_cast<int64_t>(nmeta) < 3 * n ||
      ncos != nsin) {
    rangeError(a, "q, k, v, out or meta do not fit the shape and the sequences");
    return nullptr;
  }
  b.seqs.resize(n);
  b.maxScores = 0;
  b.work = 0;
  for (int64_t i = 0; i < n; i++) {
    Seq& s = b.seqs[i];
    s.P = meta[3 * i], s.n = meta[3 * i + 1];
    const int64_t C = meta[3 * i + 2];
    size_t lp = 0, lo = 0;
    float* pb = element(a, a.argv[7], 2 * i, &lp);
    float* ob = element(a, a.argv[7], 2 * i + 1, &lo);
    if (!a.ok) return nullptr;
    s.prompt.Lp = padded(s.P), s.own.Lp = padded(C);
    const int64_t pLayer = 2 * kvRow * s.prompt.Lp, oLayer = 2 * kvRow * s.own.Lp;
    if (s.P < 0 || s.n < 0 || s.n >= C || static_cast<int64_t>(lp) != d.layers * pLayer || static_cast<int64_t>(lo) != d.layers * oLayer ||
        static_cast<int64_t>(ncos) < (s.P + s.n + 1) * d.hd) {
      rangeError(a, "sequence " + std::to_string(i) + ": cache buffers, lengths (prompt " + std::to_string(s.P) + ", own " +
                        std::to_string(s.n) + " of " + std::to_string(C) + ") or rotary tables do not fit");
      return nullptr;
    }
    s.prompt.kT = pb + layer * pLayer, s.prompt.v = s.prompt.kT + kvRow * s.prompt.Lp;
    s.ownK = ob + layer * oLayer, s.ownV = s.ownK + kvRow * s.own.Lp;
    s.own.kT = s.ownK, s.own.v = s.ownV;
    b.maxScores = std::max(b.maxScores, s.P + s.own.Lp);
    b.work += 2 * d.H * (s.P + s.n + 1) * d.hd;
  }
  dispatch(b);
  return undefined(env);
}
MP_EXPORT("decodeAttention", DecodeAttention);

}  // namespace
