;; The hot loops of fastText training, in WebAssembly SIMD (4 floats per instruction).
;; All pointers are byte offsets into the shared memory that holds the matrices, the encoded
;; examples and each thread's scratch vectors. dim need not be a multiple of 4: a scalar tail
;; finishes each row.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; out[0..dim) += wi[rows[i]] for i in [0, n)
  (func (export "sum_rows") (param $rows i32) (param $n i32) (param $wi i32) (param $dim i32) (param $out i32)
    (local $i i32) (local $src i32) (local $k i32) (local $d4 i32) (local $stride i32)
    (local.set $stride (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $d4 (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $src (i32.add (local.get $wi)
          (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))) (local.get $stride))))
        (local.set $k (i32.const 0))
        (block $vdone
          (loop $v
            (br_if $vdone (i32.ge_u (local.get $k) (local.get $d4)))
            (v128.store (i32.add (local.get $out) (local.get $k))
              (f32x4.add (v128.load (i32.add (local.get $out) (local.get $k)))
                         (v128.load (i32.add (local.get $src) (local.get $k)))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $v)))
        (block $sdone
          (loop $s
            (br_if $sdone (i32.ge_u (local.get $k) (local.get $stride)))
            (f32.store (i32.add (local.get $out) (local.get $k))
              (f32.add (f32.load (i32.add (local.get $out) (local.get $k)))
                       (f32.load (i32.add (local.get $src) (local.get $k)))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

  ;; wi[rows[i]] += vec for i in [0, n)
  (func (export "add_to_rows") (param $rows i32) (param $n i32) (param $wi i32) (param $dim i32) (param $vec i32)
    (local $i i32) (local $dst i32) (local $k i32) (local $d4 i32) (local $stride i32)
    (local.set $stride (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $d4 (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $dst (i32.add (local.get $wi)
          (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))) (local.get $stride))))
        (local.set $k (i32.const 0))
        (block $vdone
          (loop $v
            (br_if $vdone (i32.ge_u (local.get $k) (local.get $d4)))
            (v128.store (i32.add (local.get $dst) (local.get $k))
              (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $k)))
                         (v128.load (i32.add (local.get $vec) (local.get $k)))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $v)))
        (block $sdone
          (loop $s
            (br_if $sdone (i32.ge_u (local.get $k) (local.get $stride)))
            (f32.store (i32.add (local.get $dst) (local.get $k))
              (f32.add (f32.load (i32.add (local.get $dst) (local.get $k)))
                       (f32.load (i32.add (local.get $vec) (local.get $k)))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

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
)
