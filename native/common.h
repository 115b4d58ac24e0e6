// Shared helpers for the native kernels: argument unpacking from N-API and a parallel-for over OpenMP.
#pragma once
#include <node_api.h>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#define NAPI_CALL(env, call)                                                  \
  do {                                                                        \
    if ((call) != napi_ok) {                                                  \
      napi_throw_error((env), nullptr, "mathpipe native: N-API call failed"); \
      return nullptr;                                                         \
    }                                                                         \
  } while (0)

struct Args {
  napi_env env;
  napi_value argv[16];
  size_t argc = 16;
  bool ok = true;
  Args(napi_env e, napi_callback_info info) : env(e) {
    if (napi_get_cb_info(e, info, &argc, argv, nullptr, nullptr) != napi_ok) fail("bad call");
  }
  void fail(const char* msg) {
    if (ok) napi_throw_type_error(env, nullptr, msg);
    ok = false;
  }
  // A Float32Array (T = float), Float64Array (T = double) or Int32Array (T = int32_t) argument, possibly a view
  // over the wasm heap's SharedArrayBuffer. Another element type is a TypeError, never a reinterpretation.
  template <typename T>
  T* array(size_t i, size_t* len = nullptr) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value || std::is_same<T, int32_t>::value,
                  "float, double or int32_t arrays only");
    constexpr napi_typedarray_type want = std::is_same<T, float>::value    ? napi_float32_array
                                          : std::is_same<T, double>::value ? napi_float64_array
                                                                           : napi_int32_array;
    if (i >= argc) { fail("missing typed array argument"); return nullptr; }
    napi_typedarray_type type;
    size_t n;
    void* data;
    if (napi_get_typedarray_info(env, argv[i], &type, &n, &data, nullptr, nullptr) != napi_ok) {
      fail("expected a typed array");
      return nullptr;
    }
    if (type != want) {
      fail(want == napi_float32_array ? "expected a Float32Array" : want == napi_float64_array ? "expected a Float64Array" : "expected an Int32Array");
      return nullptr;
    }
    if (len) *len = n;
    return static_cast<T*>(data);
  }
  double num(size_t i) {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) fail("expected a number");
    return v;
  }
  int64_t integer(size_t i) { return static_cast<int64_t>(num(i)); }
  // A RangeError unless `name` (len elements) holds at least `need`: the JS side sizes every array, and this
  // check keeps a wrong size from reading or writing past one (a crash or silent corruption, not an error).
  // A RangeError unless the dimension `name` is at least `min` (and at most `max`).
  bool atLeast(const char* kernel, const char* name, int64_t v, int64_t min, int64_t max = INT64_MAX) {
    if (!ok) return false;
    if (v >= min && v <= max) return true;
    std::string msg = std::string(kernel) + ": " + name + " is " + std::to_string(v) + ", must be at least " + std::to_string(min) +
                      (max < INT64_MAX ? " and at most " + std::to_string(max) : "");
    napi_throw_range_error(env, nullptr, msg.c_str());
    ok = false;
    return false;
  }
  bool holds(const char* kernel, const char* name, size_t len, int64_t need) {
    if (!ok) return false;
    if (need >= 0 && static_cast<int64_t>(len) >= need) return true;
    std::string msg = std::string(kernel) + ": " + name + " has " + std::to_string(len) + " elements, needs " + std::to_string(need);
    napi_throw_range_error(env, nullptr, msg.c_str());
    ok = false;
    return false;
  }
  bool flag(size_t i) {
    bool v = false;
    if (i >= argc || napi_get_value_bool(env, argv[i], &v) != napi_ok) fail("expected a boolean");
    return v;
  }
};

// body(i) for i in [0, n): on the OpenMP threads when `parallel` (static schedule), else in a plain loop on the
// calling thread. Not `#pragma omp parallel for if (...)`: libgomp sets up a team of one for a false `if`, about
// 2 us a call (measured), and a decoding step calls these kernels ~30 times, mostly too small for threads. A body
// that computes something rounding-sensitive should call one out-of-line function, so both paths run one copy.
template <typename F>
inline void parallelFor(int64_t n, bool parallel, F&& body) {
  if (parallel) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) body(i);
  } else {
    for (int64_t i = 0; i < n; i++) body(i);
  }
}

// Registration table: each kernel file defines its exports with MP_EXPORT(name, fn).
struct Export {
  const char* name;
  napi_callback fn;
  Export* next;
};
extern Export* mp_exports;
struct ExportAdder {
  Export e;
  ExportAdder(const char* name, napi_callback fn) : e{name, fn, mp_exports} { mp_exports = &e; }
};
#define MP_EXPORT(name, fn) static ExportAdder mp_export_##fn(name, fn)

napi_value undefined(napi_env env);
