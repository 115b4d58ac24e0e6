// The addon's own argument checks: memory safety must not rest on the caller alone.
import t from 'tap';
import { nativeAddon } from '../../src/train/native.js';

const addon = nativeAddon() as unknown as Record<string, (...args: unknown[]) => unknown> | undefined;

t.test('typed arrays of another element type are a TypeError, not a reinterpretation', { skip: addon ? false : 'native addon not built' }, async (t) => {
  const f = new Float32Array(4);
  t.throws(() => addon!.add(f, new Int32Array(4), f), { name: 'TypeError', message: 'expected a Float32Array' });
  t.throws(() => addon!.gatherRows(f, new Float32Array(2), f, 2, 2), { name: 'TypeError', message: 'expected an Int32Array' });
  t.throws(() => addon!.add(f, [1, 2, 3, 4], f), { name: 'TypeError', message: 'expected a typed array' });
  t.throws(() => addon!.add(f, new Float32Array(3), f), RangeError, 'lengths are checked where the kernel can');
  addon!.add(Float32Array.of(1, 2), Float32Array.of(3, 4), f.subarray(0, 2));
  t.same(Array.from(f.subarray(0, 2)), [4, 6]);
});

// Every kernel with the arrays its dimensions need runs; each array one element short is a RangeError naming it.
t.test('every kernel checks its array lengths against its dimensions', { skip: addon ? false : 'native addon not built' }, async (t) => {
  const f = (n: number) => new Float32Array(n);
  const i = (n: number) => new Int32Array(n);
  const B = 2, T = 5, H = 4, KV = 2, hd = 8;
  const q = B * T * H * hd, kv = B * T * KV * hd, rope = T * hd;
  // [kernel, its arrays' names (null: not checked by length, as ids), builders of full-size arrays, the scalar
  // arguments after them].
  const calls: [string, (string | null)[], (() => Float32Array | Int32Array)[], unknown[]][] = [
    ['rmsNormForward', ['x', 'w', 'y', 'rstd'], [() => f(12), () => f(4), () => f(12), () => f(3)], [3, 4, 1e-6]],
    ['rmsNormBackward', ['x', 'w', 'rstd', 'dy', 'dx', 'dw'], [() => f(12), () => f(4), () => f(3), () => f(12), () => f(12), () => f(4)], [3, 4]],
    ['gatherRows', ['table', null, 'out'], [() => f(12), () => i(2), () => f(8)], [3, 4]],
    ['scatterAddRows', ['x', null, 'out'], [() => f(8), () => i(2), () => f(12)], [3, 4]],
    ['swigluForward', ['g', 'u', 'y'], [() => f(9), () => f(9), () => f(9)], [9]],
    ['swigluBackward', ['g', 'u', 'dy', 'dg', 'du'], [() => f(9), () => f(9), () => f(9), () => f(9), () => f(9)], [9]],
    ['ceForward', ['logits', 'targets', 'weights', 'lse', 'loss'], [() => f(15), () => i(3), () => f(3), () => f(3), () => f(1)], [3, 5]],
    ['ceBackward', ['logits', 'targets', 'weights', 'lse', 'dy', 'dlogits'], [() => f(15), () => i(3), () => f(3), () => f(3), () => f(1), () => f(15)], [3, 5]],
    ['attentionForward', ['q', 'k', 'v', 'cos', 'sin', 'out', 'lse'], [() => f(q), () => f(kv), () => f(kv), () => f(rope), () => f(rope), () => f(q), () => f(B * H * T)], [B, T, H, KV, hd]],
    ['attentionBackward', ['dy', 'q', 'k', 'v', 'cos', 'sin', 'lse', 'dq', 'dk', 'dv'], [() => f(q), () => f(q), () => f(kv), () => f(kv), () => f(rope), () => f(rope), () => f(B * H * T), () => f(q), () => f(kv), () => f(kv)], [B, T, H, KV, hd]],
    ['attentionBackwardReference', ['dy', 'q', 'k', 'v', 'cos', 'sin', 'dq', 'dk', 'dv'], [() => f(q), () => f(q), () => f(kv), () => f(kv), () => f(rope), () => f(rope), () => f(q), () => f(kv), () => f(kv)], [B, T, H, KV, hd]],
  ];
  if (addon!.blasInfo() !== '') calls.push(['sgemm', ['A', 'B', 'C'], [() => f(2 * 6), () => f(3 * 4), () => f(2 * 2 * 4)], [2, 2, 4, 3, false, false, 6, 0, 0]]);
  for (const [kernel, names, make, dims] of calls) {
    if (typeof addon![kernel] !== 'function') {
      t.fail(`${kernel} is not exported`);
      continue;
    }
    t.doesNotThrow(() => addon![kernel](...make.map((m) => m()), ...dims), `${kernel}: full-size arrays run`);
    names.forEach((name, at) => {
      if (name === null) return;
      const args: unknown[] = make.map((m) => m());
      const full = args[at] as Float32Array | Int32Array;
      args[at] = full.subarray(0, full.length - 1);
      t.throws(() => addon![kernel](...args, ...dims), { name: 'RangeError', message: new RegExp(`^${kernel}: ${name} has `) }, `${kernel}: ${name} one short`);
    });
  }
  t.throws(() => addon!.rmsNormForward(f(4), f(4), f(4), f(1), 1, 0, 1e-6), { name: 'RangeError', message: /D is 0, must be at least 1/ });
  t.throws(() => addon!.swigluForward(f(4), f(4), f(4), -1), { name: 'RangeError', message: /n is -1/ });
});
