// Fused sampling of a decoding step (src/sample/sampling.ts's Sampler, which stays the reference and the path
// without the addon): per row of logits, the raw log-softmax, temperature, min-p, top-k, top-p and the draw, in
// one pass over the row instead of a dozen JavaScript loops. The arithmetic is the JavaScript sampler's, operation
// for operation in float64, with V8's exp and log (jsmath.h) and no FMA contraction, so tokens and both log-probs
// are the same bits as Sampler.choose gives (tested): which sampler runs never changes a sample.
//
// The uniform draw of each row comes from the caller (the sequence's own RNG stream stays in JavaScript); rows
// are independent, so threads over rows change nothing in a row's result.
#pragma GCC optimize("fp-contract=off")
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>
#include "common.h"
#if defined(__AVX512F__)
// gcc 12 warns, falsely, of an uninitialized variable inside the intrinsics (its _mm512_undefined_*), as in decode.cc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif
#include "jsmath.h"

namespace {

// Bucket width for top-k/top-p: 1/64 nat of (tempered) logit; past 32 nats below the top, one last bucket
// (sampling.ts's BUCKETS_PER_NAT, NBUCKETS).
constexpr double kBucketsPerNat = 64;
constexpr int kBuckets = 32 * 64 + 1;

// The first id of the largest logit: the JavaScript loop's `if (l[i] > l[best]) best = i` (ties to the lower id;
// a NaN never wins, and a NaN at id 0 wins throughout, so rows holding one take that loop itself).
int64_t argmax(const float* l, int64_t V) {
#if defined(__AVX512F__)
  const __m512 lowest = _mm512_set1_ps(-__builtin_inff());
  __m512 m = lowest;
  __mmask16 nan = 0;
  for (int64_t i = 0; i < V; i += 16) {
    const __mmask16 in = V - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (V - i)) - 1);
    const __m512 x = _mm512_mask_loadu_ps(lowest, in, l + i);
    nan |= _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    m = _mm512_max_ps(m, x);
  }
  if (!nan) {
    const float top = _mm512_reduce_max_ps(m);
    for (int64_t i = 0; i < V; i++)
      if (l[i] == top) return i;
  }
#endif
  int64_t best = 0;
  for (int64_t i = 1; i < V; i++)
    if (l[i] > l[best]) best = i;
  return best;
}

// a[i] = exp(l[i] - mx), and with b, b[i] = exp((l[i] - mx) * inv): jsmath's exp, on 8 lanes where AVX-512 runs.
void expShifted(const float* l, int64_t V, double mx, double inv, double* a, double* b) {
  int64_t i = 0;
#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
  const __m512d vmx = _mm512_set1_pd(mx), vinv = _mm512_set1_pd(inv);
  for (; i < V; i += 8) {
    const __mmask8 in = V - i >= 8 ? 0xFF : static_cast<__mmask8>((1u << (V - i)) - 1);
    const __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(in, l + i)), vmx);
    _mm512_mask_storeu_pd(a + i, in, jsmath::exp8(d));
    if (b) _mm512_mask_storeu_pd(b + i, in, jsmath::exp8(_mm512_mul_pd(d, vinv)));
  }
#endif
#pragma omp simd
  for (int64_t j = i; j < V; j++) a[j] = jsmath::expSimd(l[j] - mx);
  if (b)
#pragma omp simd
    for (int64_t j = i; j < V; j++) b[j] = jsmath::expSimd((l[j] - mx) * inv);
}

struct Params {
  double temperature, topP, minP;
  int64_t topK;
};

struct Result {
  int32_t token;
  double logprob, samplingLogprob;
};

// Reused per thread: exponentials e, the weights q, each id's bucket, the bucket totals, a bucket's ids.
struct Scratch {
  std::vector<double> e;
  std::vector<double> q;
  std::vector<int32_t> bucket;
  std::vector<double> totals;
  std::vector<int32_t> ids;
  std::vector<char> keep;
};

class Row {
 public:
  Row(const float* logits, int64_t V, Scratch& s) : l_(logits), V_(V), s_(s) {}

  // A row is chosen in two parts around the sum of its exponentials, so that the sums of several rows (float64
  // additions in id order: a chain of V dependent additions each) can run interleaved (sumRows below).
  // prepare(): the largest logit and the exponentials; returns the terms to sum, in id order.
  const double* prepare(const Params& p) {
    best_ = argmax(l_, V_);
    mx_ = l_[best_];
    // The exponentials in vector loops (exp's bits), the sums after them in id order, as JavaScript adds.
    s_.e.resize(V_);
    double* e = s_.e.data();
    if (p.temperature == 0) {
      expShifted(l_, V_, mx_, 1, e, nullptr);
      return e;
    }
    s_.q.resize(V_);
    s_.bucket.resize(V_);
    double* q = s_.q.data();
    inv_ = 1 / p.temperature;
    if (p.temperature == 1) {
      expShifted(l_, V_, mx_, 1, q, nullptr);
      return q;
    }
    expShifted(l_, V_, mx_, inv_, e, q);
    return e;
  }

  // The rest, given the sum of prepare()'s terms (greedy: the normaliser; else raw, the untempered one).
  Result finish(const Params& p, double uniform, double sum) {
    if (p.temperature == 0) return {static_cast<int32_t>(best_), -jsmath::log(sum), 0.0};
    const double raw = sum, mx = mx_, inv = inv_;
    double* q = s_.q.data();
    const double lse = mx + jsmath::log(raw);
    if (p.minP > 0)
      for (int64_t i = 0; i < V_; i++)
        if (q[i] < p.minP) q[i] = 0;
    if (p.topK > 0 && p.topK < V_) keepTopK(mx, inv, p.topK);
    if (p.topP < 1) keepNucleus(mx, inv, p.topP);
    // At temperature 1 without cuts the weights are raw's terms: their sum in the same order is raw.
    const bool uncut = p.temperature == 1 && p.minP <= 0 && (p.topK <= 0 || p.topK >= V_) && p.topP >= 1;
    double total = uncut ? raw : 0;
    if (!uncut)
      for (int64_t i = 0; i < V_; i++) total += q[i];
    const double u = uniform * total;
    double acc = 0;
    int64_t pick = best_;
    for (int64_t i = 0; i < V_; i++) {
      acc += q[i];
      if (u < acc) {
        pick = i;
        break;
      }
    }
    return {static_cast<int32_t>(pick), l_[pick] - lse, jsmath::log(q[pick] / total)};
  }

 private:
  const float* l_;
  const int64_t V_;
  Scratch& s_;
  int64_t best_ = 0;
  double mx_ = 0, inv_ = 1;

  // More likely first, ties to the lower id: the order of sampling.ts's sortedBucket (a strict total order, so
  // any correct selection or sort agrees with it).
  bool before(int32_t a, int32_t b) const { return l_[a] > l_[b] || (l_[a] == l_[b] && a < b); }

  // Bucket of every kept token (-1 for dropped ones); per-bucket totals of the count or the mass.
  void buckets(double mx, double inv, bool mass) {
    const double* q = s_.q.data();
    int32_t* b = s_.bucket.data();
    s_.totals.assign(kBuckets, 0.0);
    for (int64_t i = 0; i < V_; i++) {
      if (q[i] == 0) {
        b[i] = -1;
        continue;
      }
      const int32_t k = static_cast<int32_t>(std::min<double>(kBuckets - 1, std::floor((mx - l_[i]) * inv * kBucketsPerNat)));
      b[i] = k;
      s_.totals[k] += mass ? q[i] : 1;
    }
  }

  // The ids of bucket k, in id order.
  void bucketIds(int32_t k) {
    s_.ids.clear();
    for (int64_t i = 0; i < V_; i++)
      if (s_.bucket[i] == k) s_.ids.push_back(static_cast<int32_t>(i));
  }

  // Zero the weights of buckets after `cut`, and of bucket `cut` except the ids marked in keep.
  void dropBeyond(int32_t cut) {
    double* q = s_.q.data();
    const int32_t* b = s_.bucket.data();
    for (int64_t i = 0; i < V_; i++)
      if (b[i] > cut || (b[i] == cut && !s_.keep[i])) q[i] = 0;
    for (int32_t i : s_.ids) s_.keep[i] = 0;
  }

  void keepTopK(double mx, double inv, int64_t k) {
    buckets(mx, inv, false);
    double before = 0;
    int32_t cut = 0;
    while (cut < kBuckets && before + s_.totals[cut] < k) before += s_.totals[cut++];
    if (cut == kBuckets) return;  // fewer than k kept tokens: nothing to cut
    bucketIds(cut);
    const size_t m = static_cast<size_t>(k - before);
    auto cmp = [this](int32_t a, int32_t b) { return this->before(a, b); };
    // The m first of the bucket in sorted order: a selection, not a sort (the set is what matters).
    if (m < s_.ids.size()) std::nth_element(s_.ids.begin(), s_.ids.begin() + m, s_.ids.end(), cmp);
    s_.keep.resize(V_);
    for (size_t i = 0; i < std::min(m, s_.ids.size()); i++) s_.keep[s_.ids[i]] = 1;
    dropBeyond(cut);
  }

  void keepNucleus(double mx, double inv, double topP) {
    const double* q = s_.q.data();
    buckets(mx, inv, true);
    double total = 0;
    for (int32_t k = 0; k < kBuckets; k++) total += s_.totals[k];
    const double want = topP * total;
    double before = 0;
    int32_t cut = 0;
    while (cut < kBuckets - 1 && before + s_.totals[cut] < want) before += s_.totals[cut++];
    bucketIds(cut);
    s_.keep.resize(V_);
    // The bucket's ids in sorted order until the mass is reached: popped from a heap, so a bucket holding most
    // of the vocabulary (a flat distribution) costs the ids popped, not a full sort. The running sum adds them in
    // the sorted order, as the JavaScript loop does.
    auto after = [this](int32_t a, int32_t b) { return this->before(b, a); };
    std::make_heap(s_.ids.begin(), s_.ids.end(), after);
    double acc = before;
    for (auto end = s_.ids.end(); end != s_.ids.begin();) {
      std::pop_heap(s_.ids.begin(), end, after);
      --end;
      s_.keep[*end] = 1;
      acc += q[*end];
      if (acc >= want) break;
    }
    dropBeyond(cut);
  }
};

// Rows chosen together: their sums interleave (kGroup independent chains instead of one).
constexpr int kGroup = 8;

// out[r] = sum of a[r][0..V) in index order (a chain of additions per row, exactly the one-row loop's), for
// R rows at once.
template <int R>
void sumRows(const double* const* a, int64_t V, double* out) {
  double s[R] = {};
  for (int64_t i = 0; i < V; i++)
    for (int r = 0; r < R; r++) s[r] += a[r][i];
  for (int r = 0; r < R; r++) out[r] = s[r];
}

// Rows [r0, r0 + m) of a call, m <= kGroup (out of line: the threaded and the calling-thread loops run this one
// copy).
__attribute__((noinline)) void chooseGroup(const float* const* rows, int64_t V, const double* params, const double* uniforms, int64_t r0, int64_t m,
                                           int32_t* tokens, double* logprobs) {
  static thread_local Scratch scratch[kGroup];
  std::optional<Row> row[kGroup];
  Params ps[kGroup];
  const double* terms[kGroup];
  double sums[kGroup];
  for (int64_t j = 0; j < m; j++) {
    const double* p = params + 4 * (r0 + j);
    ps[j] = {p[0], p[1], p[2], static_cast<int64_t>(p[3])};
    row[j].emplace(rows[r0 + j], V, scratch[j]);
    terms[j] = row[j]->prepare(ps[j]);
  }
  int64_t j = 0;
  for (; j + 8 <= m; j += 8) sumRows<8>(terms + j, V, sums + j);
  for (; j + 4 <= m; j += 4) sumRows<4>(terms + j, V, sums + j);
  for (; j < m; j++) sumRows<1>(terms + j, V, sums + j);
  for (int64_t j = 0; j < m; j++) {
    const Result r = row[j]->finish(ps[j], uniforms[r0 + j], sums[j]);
    tokens[r0 + j] = r.token;
    logprobs[2 * (r0 + j)] = r.logprob;
    logprobs[2 * (r0 + j) + 1] = r.samplingLogprob;
  }
}

// Elements (rows x V) below which the rows are sampled on the calling thread (waking the OpenMP threads costs
// tens of microseconds: more than a few small rows).
constexpr int64_t kParallelElements = 1 << 16;

// sampleRows(rows, V, params, uniforms, tokens, logprobs): rows an array of Float32Arrays (logits, V each);
// params Float64Array [rows * 4] (temperature, top-p, min-p, top-k per row, as SamplingParams); uniforms
// Float64Array [rows] (the row's draw in [0, 1), unused when greedy); tokens Int32Array [rows] out; logprobs
// Float64Array [rows * 2] out (raw log-prob, sampling log-prob per row).
napi_value SampleRows(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int64_t V = a.integer(1);
  size_t np = 0, nu = 0, nt = 0, nl = 0;
  const double* params = a.array<double>(2, &np);
  const double* uniforms = a.array<double>(3, &nu);
  int32_t* tokens = a.array<int32_t>(4, &nt);
  double* logprobs = a.array<double>(5, &nl);
  if (!a.ok) return nullptr;
  bool isArray = false;
  uint32_t n = 0;
  if (napi_is_array(env, a.argv[0], &isArray) != napi_ok || !isArray || napi_get_array_length(env, a.argv[0], &n) != napi_ok) {
    a.fail("sampleRows: rows must be an array of Float32Arrays");
    return nullptr;
  }
  if (V < 1 || V > INT32_MAX) {
    napi_throw_range_error(env, nullptr, "sampleRows: bad vocabulary size");
    return nullptr;
  }
  if (!a.holds("sampleRows", "params", np, 4 * int64_t{n}) || !a.holds("sampleRows", "uniforms", nu, n) ||
      !a.holds("sampleRows", "tokens", nt, n) || !a.holds("sampleRows", "logprobs", nl, 2 * int64_t{n}))
    return nullptr;
  std::vector<const float*> rows(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    napi_typedarray_type type;
    size_t len = 0;
    void* data = nullptr;
    if (napi_get_element(env, a.argv[0], i, &el) != napi_ok ||
        napi_get_typedarray_info(env, el, &type, &len, &data, nullptr, nullptr) != napi_ok || type != napi_float32_array) {
      a.fail("sampleRows: rows must be an array of Float32Arrays");
      return nullptr;
    }
    if (static_cast<int64_t>(len) != V) {
      const std::string msg = "sampleRows: row " + std::to_string(i) + " has " + std::to_string(len) + " logits, expected " + std::to_string(V);
      napi_throw_range_error(env, nullptr, msg.c_str());
      return nullptr;
    }
    rows[i] = static_cast<const float*>(data);
  }
  const int64_t groups = (int64_t{n} + kGroup - 1) / kGroup;
  const auto group = [&](int64_t g) {
    chooseGroup(rows.data(), V, params, uniforms, g * kGroup, std::min<int64_t>(kGroup, int64_t{n} - g * kGroup), tokens, logprobs);
  };
  // (A region with a false `if` would cost libgomp ~2 us: common.h's parallelFor.)
  if (int64_t{n} * V > kParallelElements) {
#pragma omp parallel for schedule(dynamic)
    for (int64_t g = 0; g < groups; g++) group(g);
  } else {
    for (int64_t g = 0; g < groups; g++) group(g);
  }
  return undefined(env);
}
MP_EXPORT("sampleRows", SampleRows);

// jsExp(x, out): out[i] = exp(x[i]) by the sampler's exponential (Float64Arrays of one length), for the test that
// holds it to V8's Math.exp bit for bit on every class of input.
napi_value JsExp(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0, no = 0;
  const double* x = a.array<double>(0, &n);
  double* out = a.array<double>(1, &no);
  if (!a.ok || !a.holds("jsExp", "out", no, static_cast<int64_t>(n))) return nullptr;
  size_t i = 0;
#if defined(__AVX512F__) && defined(__AVX512DQ__)
  for (; i + 8 <= n; i += 8) _mm512_storeu_pd(out + i, jsmath::exp8(_mm512_loadu_pd(x + i)));
#endif
  for (; i < n; i++) out[i] = jsmath::expSimd(x[i]);
  return undefined(env);
}
MP_EXPORT("jsExp", JsExp);

}  // namespace

#if defined(__AVX512F__)
#pragma GCC diagnostic pop
#endif
