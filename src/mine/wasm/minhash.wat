;; The hot loops of MinHash signatures, in WebAssembly: xxHash64 of word n-grams (what datatrove hashes
;; shingles with), the permutations h -> ((a*h + b) mod 2^64) mod (2^61 - 1) with their minimum over all
;; shingles (datatrove's get_signature, wrapping uint64 product included), and one 64-bit key per band.
;; Plain (not shared) memory: every thread instantiates its own copy. All pointers are byte offsets.
(module
  (memory (export "memory") 4)

  (global $P1 i64 (i64.const 0x9E3779B185EBCA87))
  (global $P2 i64 (i64.const 0xC2B2AE3D27D4EB4F))
  (global $P3 i64 (i64.const 0x165667B19E3779F9))
  (global $P4 i64 (i64.const 0x85EBCA77C2B2AE63))
  (global $P5 i64 (i64.const 0x27D4EB2F165667C5))

  (func $round (param $acc i64) (param $in i64) (result i64)
    (i64.mul (i64.rotl (i64.add (local.get $acc) (i64.mul (local.get $in) (global.get $P2))) (i64.const 31)) (global.get $P1)))

  (func $merge (param $acc i64) (param $v i64) (result i64)
    (i64.add (i64.mul (i64.xor (local.get $acc) (call $round (i64.const 0) (local.get $v))) (global.get $P1)) (global.get $P4)))

  ;; XXH64 of bytes [p, p+len) with seed 0 (the reference algorithm, little-endian reads).
  (func $xxh64 (export "xxh64") (param $p i32) (param $len i32) (result i64)
    (local $end i32) (local $h i64) (local $v1 i64) (local $v2 i64) (local $v3 i64) (local $v4 i64) (local $lim i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (if (i32.ge_u (local.get $len) (i32.const 32))
      (then
        (local.set $v1 (i64.add (global.get $P1) (global.get $P2)))
        (local.set $v2 (global.get $P2))
        (local.set $v3 (i64.const 0))
        (local.set $v4 (i64.sub (i64.const 0) (global.get $P1)))
        (local.set $lim (i32.sub (local.get $end) (i32.const 32)))
        (loop $stripe
          (local.set $v1 (call $round (local.get $v1) (i64.load (local.get $p))))
          (local.set $v2 (call $round (local.get $v2) (i64.load offset=8 (local.get $p))))
          (local.set $v3 (call $round (local.get $v3) (i64.load offset=16 (local.get $p))))
          (local.set $v4 (call $round (local.get $v4) (i64.load offset=24 (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (br_if $stripe (i32.le_u (local.get $p) (local.get $lim))))
        (local.set $h (i64.add (i64.add (i64.rotl (local.get $v1) (i64.const 1)) (i64.rotl (local.get $v2) (i64.const 7)))
                               (i64.add (i64.rotl (local.get $v3) (i64.const 12)) (i64.rotl (local.get $v4) (i64.const 18)))))
        (local.set $h (call $merge (local.get $h) (local.get $v1)))
        (local.set $h (call $merge (local.get $h) (local.get $v2)))
        (local.set $h (call $merge (local.get $h) (local.get $v3)))
        (local.set $h (call $merge (local.get $h) (local.get $v4))))
      (else (local.set $h (global.get $P5))))
    (local.set $h (i64.add (local.get $h) (i64.extend_i32_u (local.get $len))))
    (block $d8 (loop $l8
      (br_if $d8 (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
      (local.set $h (i64.xor (local.get $h) (call $round (i64.const 0) (i64.load (local.get $p)))))
      (local.set $h (i64.add (i64.mul (i64.rotl (local.get $h) (i64.const 27)) (global.get $P1)) (global.get $P4)))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br $l8)))
    (if (i32.le_u (i32.add (local.get $p) (i32.const 4)) (local.get $end))
      (then
        (local.set $h (i64.xor (local.get $h) (i64.mul (i64.load32_u (local.get $p)) (global.get $P1))))
        (local.set $h (i64.add (i64.mul (i64.rotl (local.get $h) (i64.const 23)) (global.get $P2)) (global.get $P3)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))))
    (block $d1 (loop $l1
      (br_if $d1 (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $h (i64.xor (local.get $h) (i64.mul (i64.load8_u (local.get $p)) (global.get $P5))))
      (local.set $h (i64.mul (i64.rotl (local.get $h) (i64.const 11)) (global.get $P1)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l1)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 33))) (global.get $P2)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29))) (global.get $P3)))
    (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 32))))

  ;; Text at [t, t+len): words separated by exactly one space (0x20), none leading or trailing.
  ;; Writes the xxh64 of every run of n consecutive words (their bytes with the spaces between, which is
  ;; " ".join(words)) to out as u64, using starts as scratch for word offsets (u32, one per word + 1).
  ;; Returns the number of shingles: words - n + 1, or 0 with fewer than n words.
  (func (export "shingles") (param $t i32) (param $len i32) (param $n i32) (param $starts i32) (param $out i32) (result i32)
    (local $i i32) (local $w i32) (local $k i32) (local $count i32) (local $end i32)
    (if (i32.eqz (local.get $len)) (then (return (i32.const 0))))
    (i32.store (local.get $starts) (local.get $t))
    (local.set $w (i32.const 1))
    (local.set $end (i32.add (local.get $t) (local.get $len)))
    (local.set $i (local.get $t))
    (block $done (loop $scan
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 32))
        (then
          (i32.store (i32.add (local.get $starts) (i32.shl (local.get $w) (i32.const 2))) (i32.add (local.get $i) (i32.const 1)))
          (local.set $w (i32.add (local.get $w) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $scan)))
    ;; A sentinel start one past the end, so word j ends at starts[j+1] - 1.
    (i32.store (i32.add (local.get $starts) (i32.shl (local.get $w) (i32.const 2))) (i32.add (local.get $end) (i32.const 1)))
    (if (i32.lt_u (local.get $w) (local.get $n)) (then (return (i32.const 0))))
    (local.set $count (i32.add (i32.sub (local.get $w) (local.get $n)) (i32.const 1)))
    (local.set $k (i32.const 0))
    (loop $each
      (local.set $i (i32.load (i32.add (local.get $starts) (i32.shl (local.get $k) (i32.const 2)))))
      (i64.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 3)))
        (call $xxh64 (local.get $i)
          (i32.sub (i32.sub (i32.load (i32.add (local.get $starts) (i32.shl (i32.add (local.get $k) (local.get $n)) (i32.const 2)))) (i32.const 1))
                   (local.get $i))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $k) (local.get $count))))
    (local.get $count))

  ;; One permutation pair's value for the shingle hash splat in $h: ((a*h + b) mod 2^64) mod (2^61 - 1).
  ;; x mod p for p = 2^61 - 1 is (x & p) + (x >> 61), less p once if that reaches p; the result is below
  ;; 2^61, so signed lane comparisons order it correctly.
  (func $perm (param $h v128) (param $a v128) (param $b v128) (result v128)
    (local $v v128)
    (local.set $v (i64x2.add (i64x2.mul (local.get $h) (local.get $a)) (local.get $b)))
    (local.set $v (i64x2.add (v128.and (local.get $v) (v128.const i64x2 0x1FFFFFFFFFFFFFFF 0x1FFFFFFFFFFFFFFF))
                             (i64x2.shr_u (local.get $v) (i32.const 61))))
    (i64x2.sub (local.get $v)
      (v128.and (i64x2.gt_s (local.get $v) (v128.const i64x2 0x1FFFFFFFFFFFFFFE 0x1FFFFFFFFFFFFFFE))
                (v128.const i64x2 0x1FFFFFFFFFFFFFFF 0x1FFFFFFFFFFFFFFF))))

  (func $min (param $m v128) (param $v v128) (result v128)
    (v128.bitselect (local.get $v) (local.get $m) (i64x2.lt_s (local.get $v) (local.get $m))))

  ;; sig[j] = min over the n shingle hashes at h of perm_j(h), for j in [0, k); k a multiple of 8.
  ;; Eight permutations at a time (four lanes pairs), so each shingle hash is loaded once per eight.
  (func (export "minhash") (param $h i32) (param $n i32) (param $k i32) (param $pa i32) (param $pb i32) (param $sig i32)
    (local $j i32) (local $q i32) (local $end i32) (local $x v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local.set $end (i32.add (local.get $h) (i32.shl (local.get $n) (i32.const 3))))
    (block $done (loop $group
      (br_if $done (i32.ge_u (local.get $j) (i32.shl (local.get $k) (i32.const 3))))
      (local.set $a0 (v128.load (i32.add (local.get $pa) (local.get $j))))
      (local.set $a1 (v128.load offset=16 (i32.add (local.get $pa) (local.get $j))))
      (local.set $a2 (v128.load offset=32 (i32.add (local.get $pa) (local.get $j))))
      (local.set $a3 (v128.load offset=48 (i32.add (local.get $pa) (local.get $j))))
      (local.set $b0 (v128.load (i32.add (local.get $pb) (local.get $j))))
      (local.set $b1 (v128.load offset=16 (i32.add (local.get $pb) (local.get $j))))
      (local.set $b2 (v128.load offset=32 (i32.add (local.get $pb) (local.get $j))))
      (local.set $b3 (v128.load offset=48 (i32.add (local.get $pb) (local.get $j))))
      (local.set $m0 (v128.const i64x2 0x7FFFFFFFFFFFFFFF 0x7FFFFFFFFFFFFFFF))
      (local.set $m1 (local.get $m0))
      (local.set $m2 (local.get $m0))
      (local.set $m3 (local.get $m0))
      (local.set $q (local.get $h))
      (block $sdone (loop $shingle
        (br_if $sdone (i32.ge_u (local.get $q) (local.get $end)))
        (local.set $x (i64x2.splat (i64.load (local.get $q))))
        (local.set $m0 (call $min (local.get $m0) (call $perm (local.get $x) (local.get $a0) (local.get $b0))))
        (local.set $m1 (call $min (local.get $m1) (call $perm (local.get $x) (local.get $a1) (local.get $b1))))
        (local.set $m2 (call $min (local.get $m2) (call $perm (local.get $x) (local.get $a2) (local.get $b2))))
        (local.set $m3 (call $min (local.get $m3) (call $perm (local.get $x) (local.get $a3) (local.get $b3))))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (br $shingle)))
      (v128.store (i32.add (local.get $sig) (local.get $j)) (local.get $m0))
      (v128.store offset=16 (i32.add (local.get $sig) (local.get $j)) (local.get $m1))
      (v128.store offset=32 (i32.add (local.get $sig) (local.get $j)) (local.get $m2))
      (v128.store offset=48 (i32.add (local.get $sig) (local.get $j)) (local.get $m3))
      (local.set $j (i32.add (local.get $j) (i32.const 64)))
      (br $group))))

  ;; keys[i] = xxh64 of band i's rows (rows u64 values of sig, as little-endian bytes), i in [0, bands).
  (func (export "band_keys") (param $sig i32) (param $bands i32) (param $rows i32) (param $keys i32)
    (local $i i32) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $rows) (i32.const 3)))
    (block $done (loop $band
      (br_if $done (i32.ge_u (local.get $i) (local.get $bands)))
      (i64.store (i32.add (local.get $keys) (i32.shl (local.get $i) (i32.const 3)))
        (call $xxh64 (i32.add (local.get $sig) (i32.mul (local.get $i) (local.get $bytes))) (local.get $bytes)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $band))))
)
