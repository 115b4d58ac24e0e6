;; The hot loops of fastText training, in WebAssembly SIMD (4 floats per instruction).
;; All pointers are byte offsets into the shared memory that holds the matrices, the encoded
;; examples and each thread's scratch vectors. dim need not be a multiple of 4: a scalar tail
;; finishes each row.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; x[0..dim) *= s
  (func (export "scale") (param $x i32) (param $dim i32) (param $s f32)
    (local $k i32) (local $d4 i32) (local $end i32) (local $sv v128)
    (local.set $end (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $d4 (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2)))
    (local.set $sv (f32x4.splat (local.get $s)))
    (block $vdone
      (loop $v
        (br_if $vdone (i32.ge_u (local.get $k) (local.get $d4)))
        (v128.store (i32.add (local.get $x) (local.get $k))
          (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $k))) (local.get $sv)))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $v)))
    (block $sdone
      (loop $s
        (br_if $sdone (i32.ge_u (local.get $k) (local.get $end)))
        (f32.store (i32.add (local.get $x) (local.get $k))
          (f32.mul (f32.load (i32.add (local.get $x) (local.get $k))) (local.get $s)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $s))))

  ;; <a, b> over dim floats
  (func (export "dot") (param $a i32) (param $b i32) (param $dim i32) (result f32)
    (local $k i32) (local $d4 i32) (local $end i32) (local $acc v128) (local $s f32)
    (local.set $end (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $d4 (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2)))
    (block $vdone
      (loop $v
        (br_if $vdone (i32.ge_u (local.get $k) (local.get $d4)))
        (local.set $acc (f32x4.add (local.get $acc)
          (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $k)))
                     (v128.load (i32.add (local.get $b) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $v)))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
    (block $sdone
      (loop $t
        (br_if $sdone (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $s (f32.add (local.get $s)
          (f32.mul (f32.load (i32.add (local.get $a) (local.get $k)))
                   (f32.load (i32.add (local.get $b) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $t)))
    (local.get $s))

  ;; grad += alpha * wo; wo += alpha * hidden   (one output row's update)
  (func (export "step") (param $wo i32) (param $hidden i32) (param $grad i32) (param $alpha f32) (param $dim i32)
    (local $k i32) (local $d4 i32) (local $end i32) (local $av v128) (local $w v128) (local $x f32)
    (local.set $end (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $d4 (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2)))
    (local.set $av (f32x4.splat (local.get $alpha)))
    (block $vdone
      (loop $v
        (br_if $vdone (i32.ge_u (local.get $k) (local.get $d4)))
        (local.set $w (v128.load (i32.add (local.get $wo) (local.get $k))))
        (v128.store (i32.add (local.get $grad) (local.get $k))
          (f32x4.add (v128.load (i32.add (local.get $grad) (local.get $k))) (f32x4.mul (local.get $av) (local.get $w))))
        (v128.store (i32.add (local.get $wo) (local.get $k))
          (f32x4.add (local.get $w) (f32x4.mul (local.get $av) (v128.load (i32.add (local.get $hidden) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $v)))
    (block $sdone
      (loop $t
        (br_if $sdone (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $x (f32.load (i32.add (local.get $wo) (local.get $k))))
        (f32.store (i32.add (local.get $grad) (local.get $k))
          (f32.add (f32.load (i32.add (local.get $grad) (local.get $k))) (f32.mul (local.get $alpha) (local.get $x))))
        (f32.store (i32.add (local.get $wo) (local.get $k))
          (f32.add (local.get $x) (f32.mul (local.get $alpha) (f32.load (i32.add (local.get $hidden) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $t))))

  ;; out[0..dim) += w[i] * wi[rows[i]] for i in [0, n): an example's rows once each, weighted by repeats
  (func (export "sum_rows_w") (param $rows i32) (param $w i32) (param $n i32) (param $wi i32) (param $dim i32) (param $out i32)
    (local $i i32) (local $src i32) (local $k i32) (local $d4 i32) (local $stride i32) (local $c f32) (local $cv v128)
    (local.set $stride (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $d4 (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $src (i32.add (local.get $wi)
          (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))) (local.get $stride))))
        (local.set $c (f32.load (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $cv (f32x4.splat (local.get $c)))
        (local.set $k (i32.const 0))
        (block $vdone
          (loop $v
            (br_if $vdone (i32.ge_u (local.get $k) (local.get $d4)))
            (v128.store (i32.add (local.get $out) (local.get $k))
              (f32x4.add (v128.load (i32.add (local.get $out) (local.get $k)))
                         (f32x4.mul (local.get $cv) (v128.load (i32.add (local.get $src) (local.get $k))))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $v)))
        (block $sdone
          (loop $s
            (br_if $sdone (i32.ge_u (local.get $k) (local.get $stride)))
            (f32.store (i32.add (local.get $out) (local.get $k))
              (f32.add (f32.load (i32.add (local.get $out) (local.get $k)))
                       (f32.mul (local.get $c) (f32.load (i32.add (local.get $src) (local.get $k))))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

  ;; wi[rows[i]] += w[i] * vec for i in [0, n)
  (func (export "add_to_rows_w") (param $rows i32) (param $w i32) (param $n i32) (param $wi i32) (param $dim i32) (param $vec i32)
    (local $i i32) (local $dst i32) (local $k i32) (local $d4 i32) (local $stride i32) (local $c f32) (local $cv v128)
    (local.set $stride (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $d4 (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $dst (i32.add (local.get $wi)
          (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))) (local.get $stride))))
        (local.set $c (f32.load (i32.add (local.get $w) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $cv (f32x4.splat (local.get $c)))
        (local.set $k (i32.const 0))
        (block $vdone
          (loop $v
            (br_if $vdone (i32.ge_u (local.get $k) (local.get $d4)))
            (v128.store (i32.add (local.get $dst) (local.get $k))
              (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $k)))
                         (f32x4.mul (local.get $cv) (v128.load (i32.add (local.get $vec) (local.get $k))))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $v)))
        (block $sdone
          (loop $s
            (br_if $sdone (i32.ge_u (local.get $k) (local.get $stride)))
            (f32.store (i32.add (local.get $dst) (local.get $k))
              (f32.add (f32.load (i32.add (local.get $dst) (local.get $k)))
                       (f32.mul (local.get $c) (f32.load (i32.add (local.get $vec) (local.get $k))))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

  ;; dst[k] = uniform in [-a, a) from the hash of element index first + k, k in [0, n): a counter-based
  ;; generator, so any split of the matrix between threads fills the same values (see sgd.ts initValue)
  (func (export "fill_uniform") (param $dst i32) (param $n i32) (param $first i32) (param $seed i32) (param $a f32)
    (local $k i32) (local $n4 i32) (local $x v128) (local $idx v128) (local $sv v128) (local $mul v128) (local $av v128)
    (local $y i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $idx (i32x4.add (i32x4.splat (local.get $first)) (v128.const i32x4 0 1 2 3)))
    (local.set $sv (i32x4.splat (local.get $seed)))
    ;; 2a / 2^24: the top 24 bits of the hash, scaled to [0, 2a)
    (local.set $mul (f32x4.splat (f32.mul (f32.add (local.get $a) (local.get $a)) (f32.const 0x1p-24))))
    (local.set $av (f32x4.splat (local.get $a)))
    (block $vdone
      (loop $v
        (br_if $vdone (i32.ge_u (local.get $k) (local.get $n4)))
        (local.set $x (v128.xor (local.get $idx) (local.get $sv)))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 16))))
        (local.set $x (i32x4.mul (local.get $x) (i32x4.splat (i32.const 0x7feb352d))))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 15))))
        (local.set $x (i32x4.mul (local.get $x) (i32x4.splat (i32.const 0x846ca68b))))
        (local.set $x (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (i32.const 16))))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 2)))
          (f32x4.sub (f32x4.mul (f32x4.convert_i32x4_s (i32x4.shr_u (local.get $x) (i32.const 8))) (local.get $mul)) (local.get $av)))
        (local.set $idx (i32x4.add (local.get $idx) (v128.const i32x4 4 4 4 4)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $v)))
    (block $sdone
      (loop $s
        (br_if $sdone (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $y (i32.xor (i32.add (local.get $first) (local.get $k)) (local.get $seed)))
        (local.set $y (i32.xor (local.get $y) (i32.shr_u (local.get $y) (i32.const 16))))
        (local.set $y (i32.mul (local.get $y) (i32.const 0x7feb352d)))
        (local.set $y (i32.xor (local.get $y) (i32.shr_u (local.get $y) (i32.const 15))))
        (local.set $y (i32.mul (local.get $y) (i32.const 0x846ca68b)))
        (local.set $y (i32.xor (local.get $y) (i32.shr_u (local.get $y) (i32.const 16))))
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 2)))
          (f32.sub (f32.mul (f32.convert_i32_s (i32.shr_u (local.get $y) (i32.const 8)))
                            (f32.mul (f32.add (local.get $a) (local.get $a)) (f32.const 0x1p-24)))
                   (local.get $a)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $s))))
)
