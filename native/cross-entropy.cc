// Weighted cross-entropy over logits [N, V]: the forward keeps only the per-row log-sum-exp, the backward
// rebuilds softmax from it in the same pass that writes the gradient, so no [N, V] intermediate survives.
#include <cmath>
#include <vector>
#include "common.h"
#include "vecmath.h"

namespace {

// ceForward(logits, targets, weights, lse, loss, N, V): lse[i] = logsumexp(logits_i);
// loss[0] = sum_i w_i (lse_i - logits_i[t_i]).
napi_value CeForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t nl = 0, nt = 0, nw = 0, nlse = 0, nloss = 0;
  const float* logits = a.array<float>(0, &nl);
  const int32_t* targets = a.array<int32_t>(1, &nt);
  const float* weights = a.array<float>(2, &nw);
  float* lse = a.array<float>(3, &nlse);
  float* loss = a.array<float>(4, &nloss);
  int64_t N = a.integer(5), V = a.integer(6);
  const char* k = "ceForward";
  if (!a.atLeast(k, "N", N, 0) || !a.atLeast(k, "V", V, 1) || !a.holds(k, "logits", nl, N * V) || !a.holds(k, "targets", nt, N) ||
      !a.holds(k, "weights", nw, N) || !a.holds(k, "lse", nlse, N) || !a.holds(k, "loss", nloss, 1))
    return nullptr;
  // Per-row terms summed afterwards in row order, so the loss does not depend on the thread count.
  std::vector<double> term(N);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N; i++) {
    const float* row = logits + i * V;
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < V; j++) m = row[j] > m ? row[j] : m;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < V; j++) s += vm::exp(row[j] - m);
    lse[i] = m + std::log(s);
    const int32_t t = targets[i];
    // The caller rejects targets outside [0, V); the guard only keeps a bad call from reading out of bounds.
    term[i] = weights[i] == 0 || t < 0 || t >= V ? 0.0 : static_cast<double>(weights[i]) * (lse[i] - row[t]);
  }
  double total = 0;
  for (int64_t i = 0; i < N; i++) total += term[i];
  loss[0] = static_cast<float>(total);
  return undefined(env);
}
MP_EXPORT("ceForward", CeForward);

// ceBackward(logits, targets, weights, lse, dy, dlogits, N, V):
// dlogits_ij = (exp(logits_ij - lse_i) - [j == t_i]) * w_i * dy[0].
napi_value CeBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t nl = 0, nt = 0, nw = 0, nlse = 0, ndy = 0, ndl = 0;
  const float* logits = a.array<float>(0, &nl);
  const int32_t* targets = a.array<int32_t>(1, &nt);
  const float* weights = a.array<float>(2, &nw);
  const float* lse = a.array<float>(3, &nlse);
  const float* dy = a.array<float>(4, &ndy);
  float* dl = a.array<float>(5, &ndl);
  int64_t N = a.integer(6), V = a.integer(7);
  const char* k = "ceBackward";
  if (!a.atLeast(k, "N", N, 0) || !a.atLeast(k, "V", V, 1) || !a.holds(k, "logits", nl, N * V) || !a.holds(k, "targets", nt, N) ||
      !a.holds(k, "weights", nw, N) || !a.holds(k, "lse", nlse, N) || !a.holds(k, "dy", ndy, 1) || !a.holds(k, "dlogits", ndl, N * V))
    return nullptr;
  const float g = dy[0];
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < N; i++) {
    const float* row = logits + i * V;
    float* out = dl + i * V;
    const float wg = weights[i] * g;
    const float l = lse[i];
    // Masked positions (weight 0, e.g. SFT prompts) skip the exponentials.
    if (wg == 0) {
      for (int64_t j = 0; j < V; j++) out[j] = 0;
      continue;
    }
#pragma omp simd
    for (int64_t j = 0; j < V; j++) out[j] = vm::exp(row[j] - l) * wg;
    if (targets[i] >= 0 && targets[i] < V) out[targets[i]] -= wg;
  }
  return undefined(env);
}
MP_EXPORT("ceBackward", CeBackward);

}  // namespace
