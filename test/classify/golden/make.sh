#!/usr/bin/env bash
# Regenerate the golden fastText files used by test/classify/interop.test.ts. Needs fastText 0.9.2
# (apt-get install fasttext) and python3. Everything here is made by this script: a tiny synthetic
# training set, one small model per loss, a quantized model, and fastText's own predict-prob output
# for each, which mathpipe must reproduce to 1e-4.
set -euo pipefail
cd "$(dirname "$0")"
python3 - <<'PY'
import random
random.seed(7)
math = ['equation', 'integral', 'theorem', 'proof', 'x', 'y', '=', '+', 'derivative', 'matrix', 'prime', 'lemma', 'é', 'ℝ', '∑']
other = ['football', 'recipe', 'travel', 'music', 'movie', 'game', 'city', 'food', 'weather', 'news', 'shop', 'car']
common = ['the', 'a', 'of', 'and', 'is', 'in', 'to', 'this']
def line(lab):
    pool = math if lab == 'math' else other
    return ' '.join(random.choice(pool) if random.random() < 0.4 else random.choice(common) for _ in range(random.randint(4, 16)))
with open('train.txt', 'w') as f:
    for i in range(240):
        lab = 'math' if i % 3 else 'other'
        f.write(f'__label__{lab} {line(lab)}\n')
with open('labels12.txt', 'w') as f:
    for i in range(360):
        k = i % 12
        f.write(f'__label__c{k} ' + ' '.join(random.choice([f'w{k}', f'w{(k + 1) % 12}', 'the', 'a', 'of']) for _ in range(8)) + '\n')
with open('query.txt', 'w') as f:
    for i in range(40):
        f.write(line('math' if i % 2 else 'other') + (' unseenword' if i % 5 == 0 else '') + f' w{i % 12}' + '\n')
PY
for loss in softmax hs ova ns; do
  fasttext supervised -input train.txt -output "$loss" -dim 6 -epoch 10 -lr 0.5 -wordNgrams 2 -bucket 300 -loss "$loss" -thread 1 -seed 3 -verbose 0
  fasttext predict-prob "$loss.bin" query.txt -1 > "$loss.expected"
  rm -f "$loss.vec"
done
# more labels than dimensions (mathpipe then takes its general path), and a deep Huffman tree
for loss in softmax hs; do
  fasttext supervised -input labels12.txt -output "labels12-$loss" -dim 4 -epoch 5 -lr 0.5 -wordNgrams 2 -bucket 100 -loss "$loss" -thread 1 -seed 3 -verbose 0
  fasttext predict-prob "labels12-$loss.bin" query.txt -1 > "labels12-$loss.expected"
  rm -f "labels12-$loss.vec"
done
# char n-grams (maxn > 0) exercise subword hashing
fasttext supervised -input train.txt -output subword -dim 6 -epoch 10 -lr 0.5 -minn 2 -maxn 4 -bucket 300 -thread 1 -verbose 0
fasttext predict-prob subword.bin query.txt -1 > subword.expected
rm -f subword.vec
# a quantized model (.ftz) with a pruned dictionary
fasttext quantize -input train.txt -output softmax -qnorm -cutoff 280 -dsub 2 -verbose 0
fasttext predict-prob softmax.ftz query.txt -1 > softmax-ftz.expected
ls -l
