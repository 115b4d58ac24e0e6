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
