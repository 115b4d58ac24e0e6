// decontam's fast path in C++: the loop of src/decontam/block-scan.ts (lines -> json-line.ts's check and
// text decoding -> words.ts's splitUnits -> "could any benchmark sequence match?") over a block of lines,
// copying clean lines to the output. It settles only the common case and hands every other line back
// to the JS path, which decides it exactly as before:
//   - a code unit whose class, lowercase or NFKC stability the JS tables do not hold yet (NEED: JS
//     fills the tables, then calls again from the same line);
//   - anything else unusual (not a plain JSON object, a text needing NFKC beyond words.ts's one-character
//     maps, astral characters, a line that may match): DEFER, JS scans that line.
// The rules are the JS files' rules; each step names the function it mirrors. test/decontam/native.test.ts
// checks both paths give the same bytes.
//
// decontam -j N queues whole blocks for N - 1 threads of this file's own (decontamScanSubmit; not OpenMP: the
// main thread must run JavaScript meanwhile). A thread classifies every line of its block and records the few
// it does not keep as they are; the main thread then finishes each block in order with decontamScan and the JS
// path, and scans queued blocks itself while it waits for one (decontamScanWait).
#include "common.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>
#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace {

enum : uint8_t { SEP = 1, WORD = 2, SINGLE = 3, JOIN = 4, BACKSLASH = 5, LT = 6 };
enum : int32_t { DONE = 0, NEED = 1, DEFER = 2, COPY = 3 };
constexpr int MAX_DEPTH = 256;
constexpr int MAX_N = 31;
constexpr uint32_t PA = 0x2545f491u, PB = 0x9e3779b1u;

struct Table {  // table.ts GramTable: [keyA, keyB, value] slots, value -1 empty
  const int32_t* slots = nullptr;
  uint32_t mask = 0;
  int shift = 0;
  bool has(uint32_t a, uint32_t b) const {
    uint32_t i = (a * 0x9e3779b1u) >> shift;
    for (;;) {
      const int32_t* s = slots + 3 * size_t(i);
      if (s[2] == -1) return false;
      if (uint32_t(s[0]) == a && uint32_t(s[1]) == b) return true;
      i = (i + 1) & mask;
    }
  }
};

struct Ctx {
  const uint8_t* classes;
  const uint16_t* lower;
  const uint8_t* stable;
  const uint32_t* nfkcMap;
  const uint16_t* nfkcPool;
  const int32_t *ctlA, *ctlB, *ctlLen, *ctlAct;
  const uint32_t *ctlToA, *ctlToB;
  int ctlBits;
  Table grams, shortT;
  const uint32_t *filter, *shortTrigrams, *shortFirst;
  int filterBits, vocabBits;
  int n, k;
  std::vector<int> lengths;
  uint32_t powA[MAX_N + 1], powB[MAX_N + 1], saltA[MAX_N + 1], saltB[MAX_N + 1];
  std::vector<uint8_t> key;
  // Per-line scratch.
  std::vector<uint16_t> units, norm;
  std::vector<uint32_t> hashA, hashB, preA, preB;
  int32_t need = 0;  // the unit a NEED is about
  // Batch scanning (decontamScanSubmit): the threads' copies (the tables are shared; the scratch is their own),
  // [0] for the main thread, and the queue they share.
  std::vector<Ctx> clones;
  std::shared_ptr<struct Pool> pool;
  ~Ctx();
};

inline uint32_t fmix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

// The unit tables (words.ts) are filled by JavaScript on the main thread while batch threads may read them
// (decontamScanSubmit): each entry goes once from 0 (unknown: NEED) to its final value, and a stability of 3
// is stored (Atomics.store) after the NFKC map it points to, so it is loaded with acquire.
template <typename T>
inline T loadRelaxed(const T* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
template <typename T>
inline T loadAcquire(const T* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

inline bool isWs(uint8_t c) { return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d; }

// ---- json-line.ts ----

int hexv(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  c |= 0x20;
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int32_t hex4(const uint8_t* b, size_t i, size_t e) {
  if (i + 4 > e) return -1;
  int h0 = hexv(b[i]), h1 = hexv(b[i + 1]), h2 = hexv(b[i + 2]), h3 = hexv(b[i + 3]);
  if ((h0 | h1 | h2 | h3) < 0) return -1;
  return (h0 << 12) | (h1 << 8) | (h2 << 4) | h3;
}

uint16_t escapeOf(uint8_t d) {
  switch (d) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return 8;
    case 'f': return 12;
    case 'n': return 10;
    case 'r': return 13;
    case 't': return 9;
    default: return 0;
  }
}

inline bool cont(const uint8_t* b, size_t j, size_t e) { return j < e && (b[j] & 0xc0) == 0x80; }

int utf8Length(const uint8_t* b, size_t i, size_t e) {
  uint8_t c = b[i];
  if (c >= 0xc2 && c <= 0xdf) return cont(b, i + 1, e) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (i + 1 >= e) return 0;
    uint8_t d = b[i + 1];
    if (c == 0xe0 ? (d < 0xa0 || d > 0xbf) : c == 0xed ? (d < 0x80 || d > 0x9f) : (d & 0xc0) != 0x80) return 0;
    return cont(b, i + 2, e) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (i + 1 >= e) return 0;
    uint8_t d = b[i + 1];
    if (c == 0xf0 ? (d < 0x90 || d > 0xbf) : c == 0xf4 ? (d < 0x80 || d > 0x8f) : (d & 0xc0) != 0x80) return 0;
    return cont(b, i + 2, e) && cont(b, i + 3, e) ? 4 : 0;
  }
  return 0;
}

// Returns the index after the closing quote, or -1. With out != nullptr, decodes into it (skipString /
// decodeString in one).
long scanString(const uint8_t* b, size_t i, size_t e, uint16_t* out, size_t* outLen, bool* nonAscii) {
  size_t n = 0;
  uint32_t high = 0;
  for (i++; i < e;) {
#ifdef __AVX2__
    // Runs of plain printable ASCII (most of every line), 32 bytes at a time. out has room: a unit per byte
    // at most, and out holds as many units as the line has bytes.
    while (i + 32 <= e) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
      // Signed: bytes >= 0x80 are negative, so "0x20 > v" catches them with the control characters.
      const __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v),
                                          _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')), _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'))));
      const uint32_t m = uint32_t(_mm256_movemask_epi8(bad));
      const size_t run = m ? size_t(__builtin_ctz(m)) : 32;
      if (out) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + n), _mm256_cvtepu8_epi16(_mm256_castsi256_si128(v)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + n + 16), _mm256_cvtepu8_epi16(_mm256_extracti128_si256(v, 1)));
        n += run;
      }
      i += run;
      if (run < 32) break;
    }
    if (i >= e) break;
#endif
    uint8_t c = b[i];
    if (c == '"') {
      if (out) {
        *outLen = n;
        *nonAscii = high >= 0x80;
      }
      return long(i + 1);
    }
    if (c >= 0x20 && c < 0x80 && c != '\\') {
      if (out) out[n++] = c;
      i++;
      continue;
    }
    if (c == '\\') {
      uint16_t esc = i + 1 < e ? escapeOf(b[i + 1]) : 0;
      if (esc) {
        if (out) out[n++] = esc;
        i += 2;
        continue;
      }
      int32_t v = i + 1 < e && b[i + 1] == 'u' ? hex4(b, i + 2, e) : -1;
      if (v < 0) return -1;
      if (out) out[n++] = uint16_t(v);
      high |= uint32_t(v);
      i += 6;
      continue;
    }
    if (c < 0x20) return -1;
    int len = utf8Length(b, i, e);
    if (!len) return -1;
    high |= 0x80;
    if (out) {
      if (len == 2) out[n++] = uint16_t(((c & 0x1f) << 6) | (b[i + 1] & 0x3f));
      else if (len == 3) out[n++] = uint16_t(((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f));
      else {
        uint32_t cp = ((uint32_t(c & 0x07) << 18) | (uint32_t(b[i + 1] & 0x3f) << 12) | (uint32_t(b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f)) - 0x10000;
        out[n++] = uint16_t(0xd800 + (cp >> 10));
        out[n++] = uint16_t(0xdc00 + (cp & 0x3ff));
      }
    }
    i += size_t(len);
  }
  return -1;
}

inline bool digit(const uint8_t* b, size_t j, size_t e) { return j < e && b[j] >= '0' && b[j] <= '9'; }

long skipNumber(const uint8_t* b, size_t i, size_t e) {
  if (b[i] == '-') i++;
  if (!digit(b, i, e)) return -1;
  if (b[i] == '0') i++;
  else while (digit(b, i, e)) i++;
  if (i < e && b[i] == '.') {
    if (!digit(b, ++i, e)) return -1;
    while (digit(b, i, e)) i++;
  }
  if (i < e && (b[i] | 0x20) == 'e') {
    i++;
    if (i < e && (b[i] == '+' || b[i] == '-')) i++;
    if (!digit(b, i, e)) return -1;
    while (digit(b, i, e)) i++;
  }
  return long(i);
}

long skipLiteral(const uint8_t* b, size_t i, size_t e) {
  const char* w = b[i] == 't' ? "true" : b[i] == 'f' ? "false" : "null";
  size_t len = strlen(w);
  if (i + len > e || memcmp(b + i, w, len) != 0) return -1;
  return long(i + len);
}

// findText: true when buf[s, e) is a JSON object whose top-level key (last occurrence) has a string value,
// decoded into ctx.units[0, *len).
bool findText(Ctx& x, const uint8_t* b, size_t s, size_t e, size_t* len, bool* nonAscii) {
  uint8_t stack[MAX_DEPTH + 1];
  size_t i = s;
  while (i < e && isWs(b[i])) i++;
  if (i >= e || b[i] != '{') return false;
  int depth = 0;
  bool ok = false, expectKey = true;
  stack[depth++] = 1;
  i++;
  while (i < e && isWs(b[i])) i++;
  if (i < e && b[i] == '}') return false;
  const size_t klen = x.key.size();
  for (;;) {
    if (i >= e) return false;
    uint8_t c = b[i];
    bool isKey = false;
    if (expectKey) {
      if (c != '"') return false;
      size_t k0 = i + 1;
      long r = scanString(b, i, e, nullptr, nullptr, nullptr);
      if (r < 0) return false;
      i = size_t(r);
      size_t k1 = i - 1;
      if (depth == 1) {
        isKey = k1 - k0 == klen && memcmp(b + k0, x.key.data(), klen) == 0;
        if (!isKey && memchr(b + k0, '\\', k1 - k0)) return false;
      }
      while (i < e && isWs(b[i])) i++;
      if (i >= e || b[i] != ':') return false;
      i++;
      while (i < e && isWs(b[i])) i++;
      if (i >= e) return false;
      c = b[i];
    }
    long r;
    if (c == '"') {
      if (isKey) {
        r = scanString(b, i, e, x.units.data(), len, nonAscii);
        ok = true;
      } else r = scanString(b, i, e, nullptr, nullptr, nullptr);
    } else {
      if (isKey) ok = false;
      if (c == '{' || c == '[') {
        if (depth == MAX_DEPTH) return false;
        stack[depth++] = c == '{' ? 1 : 2;
        i++;
        while (i < e && isWs(b[i])) i++;
        if (i < e && b[i] == (c == '{' ? '}' : ']')) {
          depth--;
          r = long(i + 1);
        } else {
          expectKey = c == '{';
          continue;
        }
      } else if (c == 't' || c == 'f' || c == 'n') r = skipLiteral(b, i, e);
      else if (c == '-' || (c >= '0' && c <= '9')) r = skipNumber(b, i, e);
      else return false;
    }
    if (r < 0) return false;
    i = size_t(r);
    for (;;) {
      while (i < e && isWs(b[i])) i++;
      if (i >= e) return false;
      uint8_t d = b[i++];
      uint8_t top = stack[depth - 1];
      if (d == ',') {
        while (i < e && isWs(b[i])) i++;
        expectKey = top == 1;
        break;
      }
      if (d != (top == 1 ? '}' : ']')) return false;
      if (--depth == 0) {
        while (i < e && isWs(b[i])) i++;
        return i == e && ok;
      }
    }
  }
}

// ---- words.ts ----

// nfkcStable, with astral characters and lone surrogates handed back. *mapped: some character has a
// one-character NFKC map (words.ts nfkcMap), for normalize to apply.
int32_t stableText(Ctx& x, const uint16_t* u, size_t len, bool* mapped) {
  for (size_t i = 0; i < len; i++) {
    uint16_t c = u[i];
    if (c < 0x80) continue;
    if (c >= 0xd800 && c <= 0xdfff) return DEFER;
    uint8_t k = loadAcquire(&x.stable[c]);
    if (k == 0) {
      x.need = c;
      return NEED;
    }
    if (k == 3) *mapped = true;
    else if (k != 1) return DEFER;
  }
  return DONE;
}

// The NFKC of u[0, len) when stableText found only stable and mapped characters, into x.norm (with a 0
// after it, as splitUnits needs); returns its length.
size_t normalize(Ctx& x, const uint16_t* u, size_t len) {
  x.norm.clear();
  for (size_t i = 0; i < len; i++) {
    uint16_t c = u[i];
    if (c >= 0x80 && loadAcquire(&x.stable[c]) == 3) {
      const uint32_t m = x.nfkcMap[c];
      x.norm.insert(x.norm.end(), x.nfkcPool + (m >> 5), x.nfkcPool + (m >> 5) + (m & 31));
    } else x.norm.push_back(c);
  }
  const size_t n = x.norm.size();
  x.norm.push_back(0);
  return n;
}

int controlSlot(const Ctx& x, uint32_t ha, uint32_t hb, int32_t len) {
  const uint32_t mask = (1u << x.ctlBits) - 1;
  for (uint32_t s = ha >> (32 - x.ctlBits); x.ctlLen[s] != 0; s = (s + 1) & mask) {
    if (uint32_t(x.ctlA[s]) == ha && uint32_t(x.ctlB[s]) == hb && x.ctlLen[s] == len) return int(s);
  }
  return -1;
}

// splitUnits (hashes only; spans are for evidence, which the JS path writes). u[len] must be 0.
int32_t splitUnits(Ctx& x, const uint16_t* u, size_t len, size_t* count) {
  size_t n = 0;
  auto emit = [&](uint32_t a, uint32_t b) {
    if (n >= x.hashA.size()) {
      x.hashA.resize(2 * n + 64);
      x.hashB.resize(2 * n + 64);
    }
    x.hashA[n] = a;
    x.hashB[n++] = b;
  };
  bool open = false;
  uint32_t a = 0, b = 0;
  for (size_t i = 0; i < len; i++) {
    uint16_t c = u[i];
    uint8_t k = c < 128 ? loadRelaxed(&x.classes[c]) : 0;
    if (k == WORD) {
      if (!open) {
        open = true;
        a = 0x811c9dc5u;
        b = 0x3c6ef372u;
      }
      a = (a ^ (c | 0x20u)) * 0x01000193u;
      b = (b ^ (c | 0x20u)) * 0x5bd1e995u;
      continue;
    }
    if (k == SEP) {
      if (open) {
        emit(fmix(a), fmix(b ^ 0x9e3779b9u));
        open = false;
      }
      continue;
    }
    if (k == 0) {
      if (c >= 0xd800 && c <= 0xdfff) return DEFER;  // astral characters: JS
      k = loadRelaxed(&x.classes[c]);
      if (k == 0) {
        x.need = c;
        return NEED;
      }
    }
    if (k == JOIN) continue;
    if (open && k != WORD) {
      emit(fmix(a), fmix(b ^ 0x9e3779b9u));
      open = false;
    }
    if (k == WORD) {
      uint16_t lc = loadRelaxed(&x.lower[c]);
      if (lc == 0) {
        x.need = c;
        return NEED;
      }
      if (!open) {
        open = true;
        a = 0x811c9dc5u;
        b = 0x3c6ef372u;
      }
      a = (a ^ lc) * 0x01000193u;
      b = (b ^ lc) * 0x5bd1e995u;
    } else if (k == SINGLE) {
      emit(fmix((0x811c9dc5u ^ c) * 0x01000193u), fmix(((0x3c6ef372u ^ c) * 0x5bd1e995u) ^ 0x9e3779b9u));
    } else if (k == BACKSLASH) {
      size_t j = i + 1;
      uint32_t la = 0x811c9dc5u, lb = 0x3c6ef372u;
      for (; j < len; j++) {
        uint32_t c2 = u[j] | 0x20u;
        if (c2 < 'a' || c2 > 'z') break;
        la = (la ^ c2) * 0x01000193u;
        lb = (lb ^ c2) * 0x5bd1e995u;
      }
      if (j == i + 1) {
        if (u[j] == '\\') i = j;
        continue;
      }
      uint32_t ha = fmix(la), hb = fmix(lb ^ 0x9e3779b9u);
      int s = controlSlot(x, ha, hb, int32_t(j - i - 1));
      if (s >= 0) {
        int32_t act = x.ctlAct[s];
        if (act < 0) {
          if (act == -2 && u[j] == '{') {
            for (size_t close = j + 1; close < len && close - j < 32; close++) {
              if (u[close] == '}') {
                j = close + 1;
                break;
              }
            }
          }
          i = j - 1;
          continue;
        }
        ha = x.ctlToA[s];
        hb = x.ctlToB[s];
      }
      emit(ha, hb);
      i = j - 1;
      continue;
    } else if (k == LT) {
      if (u[i + 1] == '<') {
        for (size_t j = i + 2; j < len && j < i + 256; j++) {
          uint16_t c2 = u[j];
          if (c2 == '>') {
            if (u[j + 1] == '>') i = j + 1;
            break;
          }
          if (c2 == '<' || c2 == '\n') break;
        }
      }
      continue;
    }
  }
  if (open) emit(fmix(a), fmix(b ^ 0x9e3779b9u));
  *count = n;
  return DONE;
}

// ---- ngram-index.ts ----

inline bool bit(const uint32_t* bits, uint32_t h) { return (bits[h >> 5] >> (h & 31)) & 1; }

// Could any indexed sequence occur in the words? The same screens as NgramIndex.firstHit, which never
// reject a real match, so "no" here is firstHit's null; "yes" goes to the JS path, which finds the hit.
bool anyHit(Ctx& x, size_t m) {
  if (m < 3) return false;
  if (x.preA.size() < m + 1) {
    x.preA.resize(2 * m + 2);
    x.preB.resize(2 * m + 2);
  }
  uint32_t* preA = x.preA.data();
  uint32_t* preB = x.preB.data();
  const uint32_t* hA = x.hashA.data();
  const uint32_t* hB = x.hashB.data();
  preA[0] = preB[0] = 0;
  for (size_t j = 0; j < m; j++) {
    preA[j + 1] = preA[j] * PA + hA[j];
    preB[j + 1] = preB[j] * PB + hB[j];
  }
  // Short texts: a run of k-2 short-text trigrams ending at word j, then the first word and the table.
  if (!x.lengths.empty()) {
    const int minShort = x.lengths[0] - 2;
    int run = 0;
    for (size_t j = 2; j < m; j++) {
      uint32_t g = preA[j + 1] - preA[j - 2] * x.powA[3];
      uint32_t t = ((g ^ (g >> 15)) * 0x7feb352du) >> (32 - x.vocabBits);
      run = bit(x.shortTrigrams, t) ? run + 1 : 0;
      if (run < minShort) continue;
      for (int k : x.lengths) {
        if (k - 2 > run) break;
        size_t i = j + 1 - size_t(k);
        uint32_t f = ((hB[i] ^ x.saltB[k]) * 0x9e3779b1u) >> (32 - x.vocabBits);
        if (!bit(x.shortFirst, f)) continue;
        uint32_t a = (preA[j + 1] - preA[i] * x.powA[k]) ^ x.saltA[k];
        uint32_t b = (preB[j + 1] - preB[i] * x.powB[k]) ^ x.saltB[k];
        if (x.shortT.has(a, b)) return true;
      }
    }
  }
  // n-grams (NgramIndex.firstGram): a window needs all of its n-k+1 k-grams in the filter. Each candidate
  // end is checked from its last k-gram backwards and a failing k-gram moves the next candidate past it,
  // so on unrelated text about one k-gram in n-k+1 is looked up (the 1 MB filter is out of cache).
  const long n = x.n, k = x.k, need = n - k + 1, end = long(m);
  long okFrom = 0, okTo = -1;
  for (long e = n - 1; e < end;) {
    const long first = e - need + 1;
    long failed = -1;
    for (long t = e; t >= first; t--) {
      if (t <= okTo && t >= okFrom) {
        t = okFrom;
        continue;
      }
      uint32_t g = preA[t + 1] - preA[t + 1 - k] * x.powA[k];
      uint32_t h = ((g ^ (g >> 15)) * 0x2c1b3c6du) >> (32 - x.filterBits);
      if (!bit(x.filter, h)) {
        failed = t;
        break;
      }
    }
    if (failed >= 0) {
      e = failed + need;
      continue;
    }
    okFrom = first;
    okTo = e;
    const long i = e + 1 - n;
    if (x.grams.has(preA[e + 1] - preA[i] * x.powA[n], preB[e + 1] - preB[i] * x.powB[n])) return true;
    e++;
  }
  return false;
}

// ---- N-API ----

void* arrayData(napi_env env, napi_value v, size_t* bytes) {
  napi_typedarray_type type;
  size_t len;
  void* data;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, nullptr, nullptr) != napi_ok) return nullptr;
  size_t width = type == napi_uint8_array || type == napi_int8_array ? 1 : type == napi_uint16_array ? 2 : 4;
  if (bytes) *bytes = len * width;
  return data;
}

// decontamScanInit(classes, lower, stable, ctlA, ctlB, ctlLen, ctlAct, ctlToA, ctlToB, grams, short, filter,
//   shortTrigrams, shortFirst, params Int32Array [n, k, gramsBits, shortBits, shortLengths, ctlBits,
//   filterBits, vocabBits], key Uint8Array, nfkcMap Uint32Array(65536), nfkcPool Uint16Array) -> handle.
//   The caller keeps the arrays alive as long as the handle.
napi_value scanInit(napi_env env, napi_callback_info info) {
  size_t argc = 18;
  napi_value argv[18];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 18) {
    napi_throw_type_error(env, nullptr, "decontamScanInit: 18 arguments");
    return nullptr;
  }
  void* p[18];
  size_t bytes[18] = {0};
  for (int i = 0; i < 18; i++) {
    p[i] = arrayData(env, argv[i], &bytes[i]);
    if (!p[i] && bytes[i] != 0) {
      napi_throw_type_error(env, nullptr, "decontamScanInit: typed arrays expected");
      return nullptr;
    }
  }
  Ctx* x = new Ctx();
  x->classes = static_cast<const uint8_t*>(p[0]);
  x->lower = static_cast<const uint16_t*>(p[1]);
  x->stable = static_cast<const uint8_t*>(p[2]);
  x->nfkcMap = static_cast<const uint32_t*>(p[16]);
  x->nfkcPool = static_cast<const uint16_t*>(p[17]);
  if (bytes[0] < 65536 || bytes[1] < 2 * 65536 || bytes[2] < 65536 || bytes[16] < 4 * 65536 || bytes[17] < 2 * 32 * 1024) {
    delete x;
    napi_throw_range_error(env, nullptr, "decontamScanInit: unit tables too short");
    return nullptr;
  }
  x->ctlA = static_cast<const int32_t*>(p[3]);
  x->ctlB = static_cast<const int32_t*>(p[4]);
  x->ctlLen = static_cast<const int32_t*>(p[5]);
  x->ctlAct = static_cast<const int32_t*>(p[6]);
  x->ctlToA = static_cast<const uint32_t*>(p[7]);
  x->ctlToB = static_cast<const uint32_t*>(p[8]);
  x->grams.slots = static_cast<const int32_t*>(p[9]);
  x->shortT.slots = static_cast<const int32_t*>(p[10]);
  x->filter = static_cast<const uint32_t*>(p[11]);
  x->shortTrigrams = static_cast<const uint32_t*>(p[12]);
  x->shortFirst = static_cast<const uint32_t*>(p[13]);
  const int32_t* prm = static_cast<const int32_t*>(p[14]);
  x->n = prm[0];
  x->k = prm[1];
  x->grams.mask = (1u << prm[2]) - 1;
  x->grams.shift = 32 - prm[2];
  x->shortT.mask = (1u << prm[3]) - 1;
  x->shortT.shift = 32 - prm[3];
  for (int k = 3; k <= MAX_N; k++)
    if (uint32_t(prm[4]) & (1u << k)) x->lengths.push_back(k);
  x->ctlBits = prm[5];
  x->filterBits = prm[6];
  x->vocabBits = prm[7];
  x->key.assign(static_cast<const uint8_t*>(p[15]), static_cast<const uint8_t*>(p[15]) + bytes[15]);
  x->powA[0] = x->powB[0] = 1;
  for (int k = 0; k <= MAX_N; k++) {
    if (k) {
      x->powA[k] = x->powA[k - 1] * PA;
      x->powB[k] = x->powB[k - 1] * PB;
    }
    x->saltA[k] = uint32_t(k + 1) * 0x85ebca6bu;
    x->saltB[k] = uint32_t(k + 1) * 0xc2b2ae35u;
  }
  napi_value handle;
  NAPI_CALL(env, napi_create_external(env, x, [](napi_env, void* d, void*) { delete static_cast<Ctx*>(d); }, nullptr, &handle));
  return handle;
}

// Whether line b[ls, le) ("\r", "\n" and byte order mark excluded) is settled clean (DONE), needs a unit learned
// (NEED, x.need) or goes to the JS path (DEFER): a plain JSON object whose text field no indexed sequence can match.
int32_t lineStatus(Ctx& x, const uint8_t* b, size_t ls, size_t le) {
  if (le <= ls || b[ls] != '{') return DEFER;
  if (x.units.size() < le - ls + 1) x.units.resize(2 * (le - ls) + 2);
  size_t len = 0, count = 0;
  bool nonAscii = false;
  if (!findText(x, b, ls, le, &len, &nonAscii)) return DEFER;
  bool mapped = false;
  int32_t status = nonAscii ? stableText(x, x.units.data(), len, &mapped) : DONE;
  if (status == DONE && mapped) {
    const size_t n = normalize(x, x.units.data(), len);
    status = splitUnits(x, x.norm.data(), n, &count);
  } else if (status == DONE) {
    x.units[len] = 0;
    status = splitUnits(x, x.units.data(), len, &count);
  }
  return status == DONE && anyHit(x, count) ? DEFER : status;
}

// decontamScan(handle, buf Uint8Array, out Uint8Array, state Int32Array). state: [0] position of the next
// line, [1] end of the block, [2] its line number, [3] bytes in out, [4] status (DONE, NEED, DEFER, COPY),
// [5] the unit a NEED is about, [6] end of the line handed back (its "\n" or the block end), [7] kept lines
// (added to), [8] verbatim. Clean lines are copied to out (which has room for the block) with their "\n".
// Verbatim (state[8] = 1): every line before state[0] was kept as it is, so the output so far is buf[0,
// state[3]) and nothing is copied (out is not used); a clean line that is not its own output (a "\r" or
// byte order mark dropped, no "\n" at the end) stops the scan with COPY before it, for the caller to copy
// the output so far to out, clear state[8] and call again.
napi_value scan(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Ctx* x = nullptr;
  if (argc < 4 || napi_get_value_external(env, argv[0], reinterpret_cast<void**>(&x)) != napi_ok || !x) {
    napi_throw_type_error(env, nullptr, "decontamScan: bad handle");
    return nullptr;
  }
  size_t bufLen = 0, outLen = 0, stLen = 0;
  const uint8_t* b = static_cast<const uint8_t*>(arrayData(env, argv[1], &bufLen));
  uint8_t* out = static_cast<uint8_t*>(arrayData(env, argv[2], &outLen));
  int32_t* st = static_cast<int32_t*>(arrayData(env, argv[3], &stLen));
  if (!b || !st || stLen < 36 || (!out && !st[8]) || st[0] < 0 || size_t(st[1]) > bufLen || st[3] < 0 || size_t(st[3]) > outLen + (st[8] ? bufLen : 0)) {
    napi_throw_type_error(env, nullptr, "decontamScan: bad arguments");
    return nullptr;
  }
  size_t pos = size_t(st[0]), end = size_t(st[1]), o = size_t(st[3]);
  const bool verbatim = st[8] != 0;
  int32_t lineNo = st[2];
  int32_t status = DONE;
  size_t nl = end;
  while (pos < end) {
    const uint8_t* q = static_cast<const uint8_t*>(memchr(b + pos, '\n', end - pos));
    nl = q ? size_t(q - b) : end;
    size_t ls = pos, le = nl;
    if (le > ls && b[le - 1] == '\r') le--;
    if (lineNo == 1 && le - ls >= 3 && b[ls] == 0xef && b[ls + 1] == 0xbb && b[ls + 2] == 0xbf) ls += 3;
    status = verbatim || o + (le - ls) + 1 <= outLen ? lineStatus(*x, b, ls, le) : DEFER;
    if (status != DONE) break;
    if (verbatim) {
      if (ls != pos || le != nl || nl == end) {
        status = COPY;
        break;
      }
      o = nl + 1;
    } else {
      memcpy(out + o, b + ls, le - ls);
      o += le - ls;
      out[o++] = '\n';
    }
    st[7]++;
    pos = nl + 1;
    lineNo++;
  }
  if (pos >= end) status = DONE;
  st[0] = int32_t(pos);
  st[2] = lineNo;
  st[3] = int32_t(o);
  st[4] = status;
  st[5] = x->need;
  st[6] = int32_t(nl);
  return undefined(env);
}

// One block of the batch scan (decontamScanSubmit): every line classified; the lines not kept as they are
// (COPY, NEED, DEFER) recorded as [position, end of line, status, unit, line number] in spec (room for `room`).
// Returns the kept lines; *count: lines recorded; *stop: where the scan stopped (the block end, or a line that
// found spec full), *stopLine: that line's number.
int32_t scanBlock(Ctx& x, const uint8_t* b, size_t end, int32_t lineNo, int32_t* spec, size_t room, int32_t* count, int32_t* stop, int32_t* stopLine) {
  size_t pos = 0, n = 0;
  int32_t kept = 0;
  while (pos < end) {
    const uint8_t* q = static_cast<const uint8_t*>(memchr(b + pos, '\n', end - pos));
    const size_t nl = q ? size_t(q - b) : end;
    size_t ls = pos, le = nl;
    if (le > ls && b[le - 1] == '\r') le--;
    if (lineNo == 1 && le - ls >= 3 && b[ls] == 0xef && b[ls + 1] == 0xbb && b[ls + 2] == 0xbf) ls += 3;
    int32_t status = lineStatus(x, b, ls, le);
    if (status == DONE && (ls != pos || le != nl || nl == end)) status = COPY;
    if (status == DONE) kept++;
    else {
      if (n == room) break;
      int32_t* r = spec + 5 * n++;
      r[0] = int32_t(pos);
      r[1] = int32_t(nl);
      r[2] = status;
      r[3] = status == NEED ? x.need : 0;
      r[4] = lineNo;
    }
    pos = nl + 1;
    lineNo++;
  }
  *count = int32_t(n);
  *stop = int32_t(pos < end ? pos : end);
  *stopLine = lineNo;
  return kept;
}

// A block submitted to the batch threads: its bytes, first line number, where its recorded lines go and
// out[0..3] (kept lines, lines recorded, where the scan stopped, that line's number), all JavaScript memory
// the caller keeps alive until it has waited for the block.
struct Job {
  const uint8_t* b;
  size_t len;
  int32_t firstLine;
  int32_t* spec;
  size_t room;
  int32_t* out;
  bool done = false;
};

struct Pool {
  std::mutex m;
  std::condition_variable cv;  // a job queued, a job done, or stop
  std::deque<std::shared_ptr<Job>> queue;
  std::unordered_map<int64_t, std::shared_ptr<Job>> jobs;  // submitted, not yet waited for
  int64_t next = 0;
  bool stop = false;
  std::vector<std::thread> threads;

  void run(Ctx& c, Job& j) { j.out[0] = scanBlock(c, j.b, j.len, j.firstLine, j.spec, j.room, &j.out[1], &j.out[2], &j.out[3]); }

  // Take the oldest queued job, scan it, mark it done (l is held on entry and on return).
  void runOne(std::unique_lock<std::mutex>& l, Ctx& c) {
    std::shared_ptr<Job> j = queue.front();
    queue.pop_front();
    l.unlock();
    run(c, *j);
    l.lock();
    j->done = true;
    cv.notify_all();
  }

  void halt() {
    {
      std::lock_guard<std::mutex> g(m);
      stop = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
    threads.clear();
  }
};

Ctx::~Ctx() {
  if (pool && !clones.empty()) pool->halt();
}

void startPool(Ctx* x, int threads) {
  Ctx base = *x;
  base.clones.clear();
  base.pool.reset();
  x->clones.assign(size_t(threads) + 1, base);
  x->pool = std::make_shared<Pool>();
  Pool* p = x->pool.get();
  for (int i = 1; i <= threads; i++)
    p->threads.emplace_back([x, p, i] {
      std::unique_lock<std::mutex> l(p->m);
      for (;;) {
        p->cv.wait(l, [p] { return p->stop || !p->queue.empty(); });
        if (p->stop) return;
        p->runOne(l, x->clones[size_t(i)]);
      }
    });
}

// decontamScanSubmit(handle, block Uint8Array, firstLine, spec Int32Array, out Int32Array, threads): queue a
// block for the batch threads (started on the first call: `threads` of them, besides the main thread, which
// scans queued blocks itself while it waits); returns its job number for decontamScanWait. spec receives the
// block's lines not kept as they are (scanBlock), out[0..3] what scanBlock returns. The caller keeps the
// three arrays alive and unchanged until it has waited for the job.
napi_value submit(napi_env env, napi_callback_info info) {
  Args a(env, info);
  Ctx* x = nullptr;
  if (!a.ok || a.argc < 6 || napi_get_value_external(env, a.argv[0], reinterpret_cast<void**>(&x)) != napi_ok || !x) {
    if (a.ok) napi_throw_type_error(env, nullptr, "decontamScanSubmit: bad handle");
    return nullptr;
  }
  const int64_t firstLine = a.integer(2), threads = a.integer(5);
  size_t len = 0, specBytes = 0, outBytes = 0;
  const uint8_t* b = static_cast<const uint8_t*>(arrayData(env, a.argv[1], &len));
  int32_t* spec = static_cast<int32_t*>(arrayData(env, a.argv[3], &specBytes));
  int32_t* out = static_cast<int32_t*>(arrayData(env, a.argv[4], &outBytes));
  if (!a.ok || (!b && len) || !spec || !out || outBytes < 16 || len > size_t(INT32_MAX) || threads < 0 || threads > 1024) {
    napi_throw_type_error(env, nullptr, "decontamScanSubmit: bad arguments");
    return nullptr;
  }
  if (!x->pool) startPool(x, int(threads));
  Pool* p = x->pool.get();
  auto j = std::make_shared<Job>();
  *j = Job{b, len, int32_t(firstLine), spec, specBytes / (5 * sizeof(int32_t)), out};
  int64_t id;
  {
    std::lock_guard<std::mutex> g(p->m);
    id = p->next++;
    p->queue.push_back(j);
    p->jobs.emplace(id, j);
  }
  p->cv.notify_one();
  napi_value v;
  NAPI_CALL(env, napi_create_double(env, double(id), &v));
  return v;
}

// decontamScanWait(handle, job): return once that job is done, scanning queued jobs (oldest first) meanwhile.
napi_value wait(napi_env env, napi_callback_info info) {
  Args a(env, info);
  Ctx* x = nullptr;
  const int64_t id = a.argc > 1 ? a.integer(1) : -1;
  if (!a.ok || napi_get_value_external(env, a.argv[0], reinterpret_cast<void**>(&x)) != napi_ok || !x || !x->pool) {
    if (a.ok) napi_throw_type_error(env, nullptr, "decontamScanWait: bad handle");
    return nullptr;
  }
  Pool* p = x->pool.get();
  std::unique_lock<std::mutex> l(p->m);
  auto it = p->jobs.find(id);
  if (it == p->jobs.end()) {
    l.unlock();
    napi_throw_range_error(env, nullptr, "decontamScanWait: no such job");
    return nullptr;
  }
  std::shared_ptr<Job> j = it->second;
  while (!j->done) {
    if (!p->queue.empty()) p->runOne(l, x->clones[0]);
    else p->cv.wait(l, [&] { return j->done || !p->queue.empty(); });
  }
  p->jobs.erase(id);
  return undefined(env);
}

}  // namespace

MP_EXPORT("decontamScanInit", scanInit);
MP_EXPORT("decontamScan", scan);
MP_EXPORT("decontamScanSubmit", submit);
MP_EXPORT("decontamScanWait", wait);
