// Matrix products through the system's OpenBLAS, loaded at run time (dlopen) so that neither the build nor the
// package needs its development files; the same GEMM PyTorch's CPU build calls. Without it the JS side keeps
// XNNPACK's products.
#include <dlfcn.h>
#include <omp.h>
#include <cstring>
#include <string>
#include "common.h"

namespace {
enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
using sgemm_t = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using set_threads_t = void (*)(int);
using get_config_t = char* (*)();
sgemm_t sgemm_fn = nullptr;
set_threads_t set_threads_fn = nullptr;
std::string blas_name;

void load() {
  static bool tried = false;
  if (tried) return;
  tried = true;
  const char* env = getenv("MATHPIPE_BLAS");
  // "none": products stay on XNNPACK (the path of a machine without OpenBLAS).
  if (env && strcmp(env, "none") == 0) return;
  const char* candidates[] = {env, "libopenblas.so.0", "libopenblasp.so.0", "libopenblas.so"};
  for (const char* name : candidates) {
    if (!name) continue;
    void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    auto f = reinterpret_cast<sgemm_t>(dlsym(h, "cblas_sgemm"));
    if (!f) { dlclose(h); continue; }
    sgemm_fn = f;
    set_threads_fn = reinterpret_cast<set_threads_t>(dlsym(h, "openblas_set_num_threads"));
    auto cfg = reinterpret_cast<get_config_t>(dlsym(h, "openblas_get_config"));
    blas_name = std::string(name) + (cfg ? std::string(" (") + cfg() + ")" : "");
    return;
  }
}

// blasInfo() -> string ("" when no BLAS was found)
napi_value BlasInfo(napi_env env, napi_callback_info) {
  load();
  napi_value s;
  NAPI_CALL(env, napi_create_string_utf8(env, blas_name.c_str(), NAPI_AUTO_LENGTH, &s));
  return s;
}
MP_EXPORT("blasInfo", BlasInfo);

// setThreads(n): OpenMP threads for the fused kernels and OpenBLAS threads for the products.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info);
  load();
  int n = static_cast<int>(a.integer(0));
  if (!a.ok) return nullptr;
  omp_set_num_threads(n);
  if (set_threads_fn) set_threads_fn(n);
  return undefined(env);
}
MP_EXPORT("setThreads", SetThreads);

// sgemm(A, B, C, batch, M, N, K, transA, transB, strideA, strideB, beta):
// C[i] = op(A[i]) op(B[i]) + beta C[i] for i < batch, row-major; strideA/B = 0 broadcasts that operand.
napi_value Sgemm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  load();
  size_t na = 0, nb = 0, nc = 0;
  const float* A = a.array<float>(0, &na);
  const float* B = a.array<float>(1, &nb);
  float* C = a.array<float>(2, &nc);
  int64_t batch = a.integer(3), M = a.integer(4), N = a.integer(5), K = a.integer(6);
  bool ta = a.flag(7), tb = a.flag(8);
  int64_t sa = a.integer(9), sb = a.integer(10);
  float beta = static_cast<float>(a.num(11));
  const char* k = "sgemm";
  // Dimensions within int (cblas' type); each operand holds its last matrix, at (batch - 1) x its stride.
  constexpr int64_t kMax = INT32_MAX;
  if (!a.atLeast(k, "batch", batch, 0) || !a.atLeast(k, "M", M, 0, kMax) || !a.atLeast(k, "N", N, 0, kMax) || !a.atLeast(k, "K", K, 0, kMax) ||
      !a.atLeast(k, "strideA", sa, 0) || !a.atLeast(k, "strideB", sb, 0))
    return nullptr;
  const int64_t last = batch > 0 ? batch - 1 : 0;
  if (batch > 0 && (!a.holds(k, "A", na, last * sa + M * K) || !a.holds(k, "B", nb, last * sb + K * N) || !a.holds(k, "C", nc, batch * M * N)))
    return nullptr;
  // An empty product (a batch of zero-length sequences) has nothing to compute; K = 0 zeroes C (as beta C + 0).
  if (batch == 0 || M == 0 || N == 0) return undefined(env);
  if (K == 0) {
    for (int64_t i = 0; i < batch * M * N; i++) C[i] = beta == 0 ? 0.0f : C[i] * beta;  // beta 0 overwrites, as BLAS
    return undefined(env);
  }
  if (!sgemm_fn) {
    napi_throw_error(env, nullptr, "mathpipe native: no BLAS loaded");
    return nullptr;
  }
  int lda = ta ? M : K, ldb = tb ? K : N;
  for (int64_t i = 0; i < batch; i++)
    sgemm_fn(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, (int)M, (int)N, (int)K, 1.0f, A + i * sa, lda,
             B + i * sb, ldb, beta, C + i * M * N, (int)N);
  return undefined(env);
}
MP_EXPORT("sgemm", Sgemm);
}  // namespace
