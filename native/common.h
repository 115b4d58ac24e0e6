// Shared helpers for the native kernels: argument unpacking from N-API and a parallel-for over OpenMP.
#pragma once
#include <node_api.h>
#include <cstddef>
#include <cstdint>
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
  // A Float32Array (T = float) or Int32Array (T = int32_t) argument, possibly a view over the wasm heap's
  // SharedArrayBuffer. Another element type is a TypeError, never a reinterpretation.
  template <typename T>
  T* array(size_t i, size_t* len = nullptr) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, int32_t>::value, "float or int32_t arrays only");
    if (i >= argc) { fail("missing typed array argument"); return nullptr; }
    napi_typedarray_type type;
    size_t n;
    void* data;
    if (napi_get_typedarray_info(env, argv[i], &type, &n, &data, nullptr, nullptr) != napi_ok) {
      fail("expected a typed array");
      return nullptr;
    }
    if (type != (std::is_same<T, float>::value ? napi_float32_array : napi_int32_array)) {
      fail(std::is_same<T, float>::value ? "expected a Float32Array" : "expected an Int32Array");
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
  bool flag(size_t i) {
    bool v = false;
    if (i >= argc || napi_get_value_bool(env, argv[i], &v) != napi_ok) fail("expected a boolean");
    return v;
  }
};

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
