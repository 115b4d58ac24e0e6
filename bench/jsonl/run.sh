#!/usr/bin/env bash
# JSONL reading: mathpipe's reader vs stream-json's JSONL parser on the same ~100 MB file.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/out
f=bench/out/jsonl-bench.jsonl
if [ ! -s "$f" ]; then
  node -e '
    const fs = require("fs"); const out = fs.openSync(process.argv[1], "w");
    let s = ""; for (let i = 0; i < 200000; i++) {
      s += JSON.stringify({id: "doc-" + i, url: "https://example.org/" + i, text: "Let x = " + i + ". Then $x^2 + 1 > 0$ holds for every real number, é 中文. ".repeat(8), meta: {n: i}}) + "\n";
      if (s.length > 1 << 20) { fs.writeSync(out, s); s = ""; }
    } fs.writeSync(out, s);' "$f"
fi
node dist/bench/jsonl/reader.js "$f"
