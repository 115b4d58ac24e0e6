// Schedules at their boundaries, the safetensors byte layout per spec, RNG state round trips, configs.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lrAt, type ScheduleSpec } from '../../src/train/schedule.js';
import { encodeSafetensors, openSafetensors, writeSafetensors, type NamedTensor } from '../../src/train/safetensors.js';
import { Rng } from '../../src/util/rng.js';
import { PRESETS, makeConfig, parameterCount, validateConfig } from '../../src/train/config.js';
import { toHF, toInternal } from '../../src/train/model.js';
import { DataError } from '../../src/cli/errors.js';

t.test('multistep schedule: warmup, x0.316 at 80%, x0.1 at 90%', async (t) => {
  const s: ScheduleSpec = { name: 'multistep', lr: 1, warmup: 10, totalSteps: 100 };
  t.equal(lrAt(s, 0), 0.1, 'first warmup step');
  t.equal(lrAt(s, 9), 1, 'last warmup step reaches the peak');
  t.equal(lrAt(s, 10), 1);
  t.equal(lrAt(s, 79), 1, 'step 79 of 100 still at peak');
  t.equal(lrAt(s, 80), 0.316, 'x0.316 from 80%');
  t.equal(lrAt(s, 89), 0.316);
  t.equal(lrAt(s, 90), 0.1, 'x0.1 from 90%');
  t.equal(lrAt(s, 99), 0.1);
});

t.test('cosine and constant schedules', async (t) => {
  const c: ScheduleSpec = { name: 'cosine', lr: 1, warmup: 10, totalSteps: 110, minLrRatio: 0.1 };
  t.equal(lrAt(c, 10), 1, 'peak right after warmup');
  t.ok(Math.abs(lrAt(c, 60) - 0.55) < 1e-12, 'halfway is the mean of peak and floor');
  t.ok(Math.abs(lrAt(c, 110) - 0.1) < 1e-12, 'floor at the end');
  t.ok(Math.abs(lrAt(c, 500) - 0.1) < 1e-12, 'stays at the floor');
  const k: ScheduleSpec = { name: 'constant', lr: 0.5, warmup: 0, totalSteps: 10 };
  t.same([0, 5, 9].map((s) => lrAt(k, s)), [0.5, 0.5, 0.5]);
});

t.test('safetensors: header per spec (u64 LE length, JSON, 8-byte aligned data, contiguous offsets)', async (t) => {
  const tensors = new Map<string, NamedTensor>([
    ['b.weight', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['a.ids', { dtype: 'I32', shape: [3], data: Int32Array.from([7, -8, 9]) }],
  ]);
  const path = join(t.testdir(), 'x.safetensors');
  writeSafetensors(path, tensors, { format: 'pt' });
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  t.equal((8 + n) % 8, 0, 'data starts 8-byte aligned');
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  t.same(header.__metadata__, { format: 'pt' });
  t.same(header['a.ids'], { dtype: 'I32', shape: [3], data_offsets: [0, 12] }, 'sorted by name, offsets relative to the data');
  t.same(header['b.weight'], { dtype: 'F32', shape: [2, 3], data_offsets: [12, 36] });
  t.equal(buf.length, 8 + n + 36, 'no bytes after the last tensor');
  t.same(Array.from(new Float32Array(buf.buffer.slice(buf.byteOffset + 8 + n + 12, buf.byteOffset + 8 + n + 36))), [1, 2, 3, 4, 5, 6], 'raw little-endian float32');
  const f = openSafetensors(path);
  t.same(Array.from(f.get('a.ids').data), [7, -8, 9]);
  t.same(f.get('b.weight').shape, [2, 3]);
  f.close();
});

t.test('safetensors: malformed files are data errors', async (t) => {
  const dir = t.testdir();
  const bad = (name: string, bytes: Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  t.throws(() => openSafetensors(bad('short', Buffer.from([1, 2]))), DataError);
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(1000n, 0);
  t.throws(() => openSafetensors(bad('len', huge)), /header length/);
  const [head, data] = encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [4], data: new Float32Array(4) } as NamedTensor]]));
  t.throws(() => openSafetensors(bad('trunc', Buffer.concat([head, data.subarray(0, 8)]))), /past the end/);
  const j = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [4, 20] } }));
  const l = Buffer.alloc(8);
  l.writeBigUInt64LE(BigInt(j.length));
  t.throws(() => openSafetensors(bad('hole', Buffer.concat([l, j, Buffer.alloc(20)]))), /hole/);
});

t.test('rng: state round trip continues the same stream', async (t) => {
  const a = new Rng(42);
  for (let i = 0; i < 10; i++) a.next();
  const b = new Rng(a.state());
  t.same(Array.from({ length: 5 }, () => a.nextU32()), Array.from({ length: 5 }, () => b.nextU32()));
  t.not(new Rng(1).nextU32(), new Rng(2).nextU32(), 'different seeds differ');
});

t.test('configs: presets, DeepSeekMath 7B parameter count, validation', async (t) => {
  const n = parameterCount(makeConfig(PRESETS['deepseek-math-7b']));
  t.ok(Math.abs(n - 6.91e9) < 0.01e9, `deepseek-math-7b has ${n} parameters (HF reports 6.91B)`);
  t.ok(parameterCount(makeConfig(PRESETS.tiny)) < 200_000);
  t.throws(() => validateConfig({ vocab_size: 10, hidden_size: 30, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 4 }, 'c.json'), /divisible/);
  t.throws(() => validateConfig({ model_type: 'gpt2' }, 'c.json'), /not supported/);
  const c = validateConfig({ vocab_size: 10, hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2, tie_word_embeddings: true }, 'c.json');
  t.equal(c.num_key_value_heads, 2, 'kv heads default to heads');
});

t.test('HF <-> internal layout round trip for linear weights', async (t) => {
  const d = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const i = toInternal('model.layers.0.mlp.up_proj.weight', [2, 3], d);
  t.same(i.shape, [3, 2]);
  t.same(Array.from(i.data), [1, 4, 2, 5, 3, 6]);
  t.same(Array.from(toHF('model.layers.0.mlp.up_proj.weight', i.shape, i.data).data), Array.from(d));
  t.equal(toInternal('model.norm.weight', [6], d).data, d, 'norms are not transposed');
});
