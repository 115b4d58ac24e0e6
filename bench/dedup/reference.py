#!/usr/bin/env python3
"""The same MinHash-LSH near-dedup as `mathpipe mine dedup`, written with numpy the way datatrove's
MinhashDedupSignature does it (datatrove itself is not installable here): simplify the text, split
words, xxh64 each word 5-gram, permute with (a*h + b) mod 2^64 mod (2^61 - 1), take minima, band them,
and union the documents that share a band. The reference for bench/dedup/run.sh, not a product.

usage: reference.py signatures DOCS.jsonl OUT.tsv      (one line per document: id, then the signature)
       reference.py dedup DOCS.jsonl KEPT.txt           (ids kept, --keep first; timing on stderr)
"""
import json
import re
import resource
import sys
import time
import unicodedata

import numpy as np

try:
    import xxhash

    def h64(s):
        return xxhash.xxh64_intdigest(s)
except ImportError:  # Debian: apt-get install python3-xxhash
    sys.exit("reference.py needs python3-xxhash (apt-get install python3-xxhash)")

P = np.uint64((1 << 61) - 1)
NGRAM, BANDS, ROWS, SEED = 5, 14, 8, 1
PUNCT = "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»" + "".join(
    map(chr, [*range(0, 9), *range(11, 13), *range(13, 32), *range(127, 160)])
)
DROP = str.maketrans("", "", PUNCT)
SPACES = re.compile(r"\s+")
DIGITS = re.compile(r"\d+")
SPLITS = re.compile(r"\b(can)(not)\b|\b(gim)(me)\b|\b(gon)(na)\b|\b(got)(ta)\b|\b(lem)(me)\b|\b(wan)(na)(?= )")
CJK = re.compile("([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")


def words(text):
    s = SPACES.sub(" ", text.lower().strip()).translate(DROP)
    s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
    s = DIGITS.sub("0", s).strip()
    s = SPLITS.sub(lambda m: " ".join(g for g in m.groups() if g), s)
    return CJK.sub(r" \1 ", s).split()


def params():
    g = np.random.RandomState(SEED)
    k = BANDS * ROWS
    return g.randint(1, P, dtype=np.uint64, size=(1, k)), g.randint(0, P, dtype=np.uint64, size=(1, k))


def signature(text, a, b):
    w = words(text)
    sh = np.fromiter((h64(" ".join(w[i : i + NGRAM])) for i in range(len(w) - NGRAM + 1)), dtype=np.uint64)
    if sh.size == 0:
        return None
    with np.errstate(over="ignore"):
        phv = (sh.reshape(-1, 1) * a + b) % P
    return phv.min(axis=0)


def read(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                yield d.get("id"), d["text"]


def main():
    mode, src, dst = sys.argv[1:4]
    a, b = params()
    if mode == "signatures":
        with open(dst, "w") as out:
            for i, text in read(src):
                s = signature(text, a, b)
                out.write(f"{i}\t{'' if s is None else ' '.join(map(str, s.tolist()))}\n")
        return
    t0 = time.perf_counter()
    ids, bands = [], []
    for i, text in read(src):
        ids.append(i)
        s = signature(text, a, b)
        bands.append(None if s is None else [s[j * ROWS : (j + 1) * ROWS].tobytes() for j in range(BANDS)])
    t1 = time.perf_counter()
    parent = list(range(len(ids)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for j in range(BANDS):
        first = {}
        for d, bs in enumerate(bands):
            if bs is None:
                continue
            f = first.setdefault(bs[j], d)
            if f != d:
                ra, rb = find(f), find(d)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    with open(dst, "w") as out:
        for d, i in enumerate(ids):
            if find(d) == d:
                out.write(f"{i}\n")
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"docs": len(ids), "signature_s": t1 - t0, "total_s": t2 - t0, "peak_rss_kb": rss}), file=sys.stderr)


if __name__ == "__main__":
    main()
