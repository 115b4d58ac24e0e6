// Module entry: exports every function the kernel files registered with MP_EXPORT.
#include "common.h"

Export* mp_exports = nullptr;

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value Init(napi_env env, napi_value exports) {
  for (Export* e = mp_exports; e; e = e->next) {
    napi_value fn;
    NAPI_CALL(env, napi_create_function(env, e->name, NAPI_AUTO_LENGTH, e->fn, nullptr, &fn));
    NAPI_CALL(env, napi_set_named_property(env, exports, e->name, fn));
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
