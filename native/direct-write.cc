// writeDirect(fd, parts): write the byte arrays in `parts` one after another from offset 0 of `fd`, a file
// opened with O_DIRECT, through an aligned bounce buffer; returns the bytes written before padding (the last
// block is padded with zeros: the caller truncates the file to the returned length).
// Why: a buffered write of a 2 GB model first fills 2 GB of fresh page cache, and in a virtual machine the
// first touch of a page costs tens of microseconds (classify's paper-size model took 7-12 s to write here,
// `dd` 3-7 s); O_DIRECT goes from this buffer to the disk (`dd oflag=direct`: 3.1-3.3 s for 2 GiB).
// Errors throw with the errno's name in `code` (EINVAL: the file system refuses O_DIRECT; the caller then
// writes the ordinary way).
#include "common.h"
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

namespace {

constexpr size_t kAlign = 4096;
constexpr size_t kBuffer = 8 << 20;

bool throwErrno(napi_env env, int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(err);
#else
  const char* name = nullptr;
#endif
  const char* code = name ? name : err == EINVAL ? "EINVAL" : err == ENOSPC ? "ENOSPC" : "EIO";
  // Node's own wording ("ENOSPC: no space left on device, write"), so messages read as on the buffered path.
  std::string reason = strerror(err);
  if (!reason.empty()) reason[0] = static_cast<char>(tolower(reason[0]));
  napi_throw_error(env, code, (std::string(code) + ": " + reason + ", write").c_str());
  return false;
}

// Write all of buf[0, n) at off; n and off are multiples of kAlign.
bool writeBlock(napi_env env, int fd, const char* buf, size_t n, off_t off) {
  while (n) {
    ssize_t w = pwrite(fd, buf, n, off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return throwErrno(env, errno);
    }
    if (w == 0) return throwErrno(env, EIO);
    // A short write of a multiple of the block size can be resumed; anything else cannot be with O_DIRECT.
    if (static_cast<size_t>(w) % kAlign) return throwErrno(env, EIO);
    buf += w;
    n -= static_cast<size_t>(w);
    off += w;
  }
  return true;
}

napi_value WriteDirect(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int fd = static_cast<int>(a.integer(0));
  if (!a.ok) return nullptr;
  bool isArray = false;
  if (a.argc < 2 || napi_is_array(env, a.argv[1], &isArray) != napi_ok || !isArray) {
    napi_throw_type_error(env, nullptr, "writeDirect: expected an array of Uint8Arrays");
    return nullptr;
  }
  uint32_t count = 0;
  NAPI_CALL(env, napi_get_array_length(env, a.argv[1], &count));
  void* mem = nullptr;
  if (posix_memalign(&mem, kAlign, kBuffer) != 0) {
    napi_throw_error(env, "ENOMEM", "writeDirect: cannot allocate its buffer");
    return nullptr;
  }
  char* bounce = static_cast<char*>(mem);
  size_t fill = 0;
  off_t off = 0;
  double total = 0;
  bool ok = true;
  for (uint32_t i = 0; ok && i < count; i++) {
    napi_value v;
    napi_typedarray_type type;
    size_t n;
    void* data;
    if (napi_get_element(env, a.argv[1], i, &v) != napi_ok ||
        napi_get_typedarray_info(env, v, &type, &n, &data, nullptr, nullptr) != napi_ok || type != napi_uint8_array) {
      napi_throw_type_error(env, nullptr, "writeDirect: expected an array of Uint8Arrays");
      ok = false;
      break;
    }
    const char* src = static_cast<const char*>(data);
    total += static_cast<double>(n);
    while (n) {
      const size_t k = std::min(n, kBuffer - fill);
      memcpy(bounce + fill, src, k);
      fill += k;
      src += k;
      n -= k;
      if (fill == kBuffer) {
        if (!(ok = writeBlock(env, fd, bounce, kBuffer, off))) break;
        off += static_cast<off_t>(kBuffer);
        fill = 0;
      }
    }
  }
  if (ok && fill) {
    const size_t padded = (fill + kAlign - 1) / kAlign * kAlign;
    memset(bounce + fill, 0, padded - fill);
    ok = writeBlock(env, fd, bounce, padded, off);
  }
  free(mem);
  if (!ok) return nullptr;
  napi_value r;
  NAPI_CALL(env, napi_create_double(env, total, &r));
  return r;
}
MP_EXPORT("writeDirect", WriteDirect);

}  // namespace
