// mapFile(fd, offset, length[, lazy]): a read-only memory map of part of a file, as an ArrayBuffer that unmaps
// itself when it is collected; adviseMapped(arrayBuffer, offset, length, populate) fills or drops the page-table
// entries of part of it. decontam reads its index and its input through these. Why not read(2): on the virtual machines mathpipe is measured on, the first touch of a page of
// fresh anonymous memory costs 10-40 us (measured: touching 100 MB of fresh memory 0.5 s, reading a 54 MB file
// into a fresh buffer and touching it 0.47 s), while mapping page-cache pages with MAP_POPULATE and touching
// them costs a fraction of that (the 54 MB index: 0.03 s). The pages are shared with the page cache, so worker
// threads or processes that map the same file add no memory. The mapping is read-only: a write through a view
// of it faults (SIGSEGV); callers only read.
//
// A lazy mapping (the input, a window of it at a time) is address space only: nothing is populated at map time
// and it is not counted as external memory (the reader populates each block before it reads it and drops the
// pages it is done with, in large ranges: each madvise of a process with several threads costs a TLB shootdown,
// which a virtual machine makes dear).
#include "common.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace {

napi_value MapFile(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int64_t fd = a.integer(0), off = a.integer(1), len = a.integer(2);
  const bool lazy = a.argc > 3 && a.flag(3);
  if (!a.ok) return nullptr;
  const int64_t page = sysconf(_SC_PAGESIZE);
  if (fd < 0 || off < 0 || len <= 0 || off % page != 0) {
    napi_throw_range_error(env, nullptr, "mapFile: fd, offset (a multiple of the page size) and length > 0 expected");
    return nullptr;
  }
  void* p = mmap(nullptr, size_t(len), PROT_READ, MAP_PRIVATE | (lazy ? 0 : MAP_POPULATE), int(fd), off_t(off));
  if (p == MAP_FAILED) {
    const std::string msg = std::string("mapFile: ") + strerror(errno);
    napi_throw_error(env, nullptr, msg.c_str());
    return nullptr;
  }
  // Input is read once, front to back.
  madvise(p, size_t(len), MADV_SEQUENTIAL);
  napi_value ab;
  auto unmap = [](napi_env, void* data, void* hint) { munmap(data, reinterpret_cast<size_t>(hint)); };
  auto unmapCounted = [](napi_env e, void* data, void* hint) {
    const size_t n = reinterpret_cast<size_t>(hint);
    munmap(data, n);
    int64_t ignored;
    napi_adjust_external_memory(e, -int64_t(n), &ignored);
  };
  if (napi_create_external_arraybuffer(env, p, size_t(len), lazy ? unmap : unmapCounted, reinterpret_cast<void*>(size_t(len)), &ab) != napi_ok) {
    munmap(p, size_t(len));
    napi_throw_error(env, nullptr, "mapFile: cannot wrap the mapping in an ArrayBuffer");
    return nullptr;
  }
  // Counted as external memory, so the collector frees mappings no longer viewed (the resident size stays flat).
  int64_t ignored;
  if (!lazy) napi_adjust_external_memory(env, len, &ignored);
  return ab;
}
MP_EXPORT("mapFile", MapFile);

// The bytes of argument `i`, an ArrayBuffer from mapFile, or false with a TypeError naming `fn`.
bool mappedArg(napi_env env, Args& a, size_t i, const char* fn, void** data, size_t* len) {
  if (a.ok && i < a.argc && napi_get_arraybuffer_info(env, a.argv[i], data, len) == napi_ok) return true;
  if (a.ok) napi_throw_type_error(env, nullptr, (std::string(fn) + ": an ArrayBuffer from mapFile expected").c_str());
  return false;
}

// adviseMapped(arrayBuffer from mapFile, offset, length, populate): fill the page-table entries of those bytes
// (MADV_POPULATE_READ: one call instead of a fault per few pages; a kernel older than 5.14 refuses it and the
// reads fault them in instead) or drop them (MADV_DONTNEED: they stop counting as resident; safe at any time,
// since the mapping is private and never written, so a later read faults the file's bytes back in). The range
// is widened to whole pages and clipped to the buffer.
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
napi_value AdviseMapped(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int64_t off = a.integer(1), len = a.integer(2);
  const bool populate = a.flag(3);
  void* data = nullptr;
  size_t size = 0;
  if (!mappedArg(env, a, 0, "adviseMapped", &data, &size)) return nullptr;
  if (off < 0 || len < 0) {
    napi_throw_range_error(env, nullptr, "adviseMapped: offset and length >= 0 expected");
    return nullptr;
  }
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE)), base = reinterpret_cast<uintptr_t>(data);
  if (base % page != 0 || size_t(off) >= size || len == 0) return undefined(env);
  const uintptr_t from = (base + uintptr_t(off)) & ~(page - 1);
  const uintptr_t to = std::min(base + size, (base + uintptr_t(off) + uintptr_t(len) + page - 1) & ~(page - 1));
  madvise(reinterpret_cast<void*>(from), to - from, populate ? MADV_POPULATE_READ : MADV_DONTNEED);
  return undefined(env);
}
MP_EXPORT("adviseMapped", AdviseMapped);

// mappedAddress(arrayBuffer from mapFile): where its bytes are in this process, for viewMapped in another thread.
napi_value MappedAddress(napi_env env, napi_callback_info info) {
  Args a(env, info);
  void* data = nullptr;
  size_t len = 0;
  if (!mappedArg(env, a, 0, "mappedAddress", &data, &len)) return nullptr;
  napi_value v;
  NAPI_CALL(env, napi_create_double(env, double(reinterpret_cast<uintptr_t>(data)), &v));
  return v;
}
MP_EXPORT("mappedAddress", MappedAddress);

// viewMapped(address, length): an ArrayBuffer over bytes another thread of this process has mapped (mapFile),
// without mapping them again. It neither owns nor unmaps them: the caller keeps the mapping alive while it is used.
napi_value ViewMapped(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const double addr = a.num(0);
  const int64_t len = a.integer(1);
  if (!a.ok) return nullptr;
  if (addr <= 0 || len <= 0) {
    napi_throw_range_error(env, nullptr, "viewMapped: address and length > 0 expected");
    return nullptr;
  }
  napi_value ab;
  NAPI_CALL(env, napi_create_external_arraybuffer(env, reinterpret_cast<void*>(uintptr_t(addr)), size_t(len), nullptr, nullptr, &ab));
  return ab;
}
MP_EXPORT("viewMapped", ViewMapped);

}  // namespace
