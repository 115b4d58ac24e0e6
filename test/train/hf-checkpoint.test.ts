// Checkpoints as Hugging Face publishes them: BF16/F16 weights (read as F32), shards listed by
// model.safetensors.index.json, a leftover rotary_emb.inv_freq; `pretrain --init` from one; and what a mathpipe
// checkpoint writes for Hugging Face tools (generation_config.json, tokenizer.json, tokenizer_config.json).
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers.js';
import { writeSyntheticTokens } from '../../fixtures/train/tokens.js';
import { DataError } from '../../src/cli/errors.js';
import { openCheckpoint } from '../../src/train/checkpoint.js';
import { makeConfig, parameterShapes } from '../../src/train/config.js';
import { Rng } from '../../src/util/rng.js';
import { bf16ToF32, f16ToF32, openSafetensors, toBF16, toF16, writeSafetensors, type NamedTensor } from '../../src/train/safetensors.js';
import { formatRanks, writeTokenizerDir } from '../../src/tokenizer/files.js';
import { MATH_PATTERN } from '../../src/tokenizer/pattern.js';

t.test('F16 and BF16: every finite pattern converts to F32 and back unchanged; rounding is to nearest even', async (t) => {
  const all = new Uint16Array(65536).map((_, i) => i);
  for (const [name, widen, narrow] of [
    ['F16', f16ToF32, toF16],
    ['BF16', bf16ToF32, toBF16],
  ] as const) {
    const f = widen(all);
    const back = narrow(f);
    let bad = 0;
    for (let h = 0; h < 65536; h++) if (!Number.isNaN(f[h]) && back[h] !== h) bad++;
    t.equal(bad, 0, `${name}: round trip of all finite and infinite values`);
    // Random floats land on the nearer neighbour (F16: within its range, subnormals included; past it is infinity).
    const rng = new Rng(7);
    const x = Float32Array.from({ length: 20000 }, () => (rng.next() - 0.5) * 2 ** (name === 'F16' ? rng.int(40) - 24 : rng.int(80) - 40));
    const h = narrow(x);
    let far = 0;
    for (let i = 0; i < x.length; i++) {
      const err = Math.abs(widen(Uint16Array.of(h[i]))[0] - x[i]);
      for (const n of [h[i] - 1, h[i] + 1]) if (Math.abs(widen(Uint16Array.of(n))[0] - x[i]) < err) far++;
    }
    t.equal(far, 0, `${name}: nearest value`);
  }
  t.same([...toBF16(Float32Array.of(1 + 2 ** -8, 1 + 3 * 2 ** -8, NaN, -Infinity))], [0x3f80, 0x3f82, 0x7fc0, 0xff80], 'BF16 ties to even; NaN; -inf');
  t.same([...toF16(Float32Array.of(1 + 2 ** -11, 1 + 3 * 2 ** -11, 65519, 65520, 2 ** -25, 1.5 * 2 ** -25, -(2 ** -24), 1e-30))], [0x3c00, 0x3c02, 0x7bff, 0x7c00, 0, 1, 0x8001, 0], 'F16 ties to even, overflow, subnormals');
  t.same([...f16ToF32(Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7c00))], [1, -2, 2 ** -24, Infinity]);
});

// A small Llama with Hugging Face's config fields, random weights.
const shapeOf = { vocab_size: 320, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: false };
const hfConfig = {
  ...makeConfig(shapeOf),
  torch_dtype: 'bfloat16',
  head_dim: 8,
  rope_scaling: null,
  pretraining_tp: 1,
  attention_dropout: 0,
  use_cache: true,
  transformers_version: '4.44.0',
  bos_token_id: 256,
  eos_token_id: 257,
};

function weights(): Map<string, Float32Array> {
  const rng = new Rng(1);
  const m = new Map<string, Float32Array>();
  for (const [name, shape] of parameterShapes(makeConfig(shapeOf))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = name.endsWith('norm.weight');
    m.set(name, Float32Array.from({ length: n }, () => (norm ? 1 : 0) + (rng.next() - 0.5) * 0.1));
  }
  return m;
}

/** Write `w` as Hugging Face does: config.json, and the weights in `dtype`, in one file or in two shards + index. */
function writeHf(dir: string, w: Map<string, Float32Array>, dtype: 'BF16' | 'F16', sharded: boolean): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig));
  const names = [...w.keys()].sort();
  const tensor = (name: string): NamedTensor => {
    const data = w.get(name)!;
    return { dtype, shape: parameterShapes(makeConfig(shapeOf)).get(name)!, data: dtype === 'BF16' ? toBF16(data) : toF16(data) };
  };
  // Older transformers saved this buffer with the weights; loaders must pass over it.
  const invFreq = (i: number): [string, NamedTensor] => [`model.layers.${i}.self_attn.rotary_emb.inv_freq`, { dtype: 'F32', shape: [4], data: Float32Array.of(1, 0.1, 0.01, 0.001) }];
  if (!sharded) {
    writeSafetensors(join(dir, 'model.safetensors'), new Map([...names.map((n) => [n, tensor(n)] as const), invFreq(0)]), { format: 'pt' });
    return;
  }
  const halves = [names.slice(0, names.length / 2), names.slice(names.length / 2)];
  const weightMap: Record<string, string> = {};
  halves.forEach((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    const tensors = new Map<string, NamedTensor>([...part.map((n) => [n, tensor(n)] as const), invFreq(i)]);
    writeSafetensors(join(dir, file), tensors, { format: 'pt' });
    for (const n of tensors.keys()) weightMap[n] = file;
  });
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2));
}

t.test('openCheckpoint reads BF16 shards and an F16 file as F32, exactly the stored values; inv_freq is passed over', async (t) => {
  const w = weights();
  for (const [dtype, sharded, widen, narrow, tol] of [
    ['BF16', true, bf16ToF32, toBF16, 2 ** -8],
    ['F16', false, f16ToF32, toF16, 2 ** -11],
  ] as const) {
    const dir = join(t.testdir(), dtype);
    writeHf(dir, w, dtype, sharded);
    const ck = openCheckpoint(dir);
    t.equal(ck.config.vocab_size, 320);
    t.same(Object.keys(ck.weights.header).sort(), [...w.keys()].sort(), `${dtype}: the parameters, without inv_freq`);
    let exact = true;
    let worst = 0;
    for (const [name, orig] of w) {
      const got = ck.weights.get(name);
      t.equal(got.dtype, 'F32');
      const want = widen(narrow(orig));
      const data = got.data as Float32Array;
      for (let i = 0; i < orig.length; i++) {
        if (data[i] !== want[i]) exact = false;
        worst = Math.max(worst, Math.abs(data[i] - orig[i]) / Math.max(Math.abs(orig[i]), 2 ** -14));
      }
    }
    t.ok(exact, `${dtype}: the stored values, widened exactly`);
    t.ok(worst <= tol, `${dtype}: within rounding of the original (worst relative error ${worst})`);
    ck.weights.close();
  }
});

t.test('a broken sharded checkpoint is bad data (65) naming the file', async (t) => {
  const w = weights();
  const make = () => {
    const dir = join(t.testdir(), `ck${Math.random().toString(36).slice(2)}`);
    writeHf(dir, w, 'BF16', true);
    return dir;
  };
  const expect65 = (dir: string, file: string, what: RegExp) => {
    try {
      openCheckpoint(dir).weights.close();
      t.fail(`${file}: opened`);
    } catch (e) {
      t.type(e, DataError);
      t.equal((e as DataError).exitCode, 65);
      t.match((e as Error).message, join(dir, file));
      t.match((e as Error).message, what);
    }
  };
  let dir = make();
  rmSync(join(dir, 'model-00002-of-00002.safetensors'));
  expect65(dir, 'model-00002-of-00002.safetensors', /cannot open/);
  dir = make();
  truncateSync(join(dir, 'model-00001-of-00002.safetensors'), 4000);
  expect65(dir, 'model-00001-of-00002.safetensors', /past the end/);
  dir = make();
  writeFileSync(join(dir, 'model.safetensors.index.json'), '{"weight_map": ');
  expect65(dir, 'model.safetensors.index.json', /cannot read the weight index/);
  dir = make();
  const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
  const other = (f: string) => (f === 'model-00001-of-00002.safetensors' ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors');
  index.weight_map['model.norm.weight'] = other(index.weight_map['model.norm.weight']);
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
  expect65(dir, index.weight_map['model.norm.weight'], /tensor model\.norm\.weight is missing/);
  dir = make();
  index.weight_map['model.norm.weight'] = '../elsewhere.safetensors';
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
  expect65(dir, 'model.safetensors.index.json', /not a \.safetensors file name/);
  dir = make();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...hfConfig, head_dim: 16 }));
  expect65(dir, 'config.json', /head_dim 16/);
  dir = make();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...hfConfig, intermediate_size: 48 }));
  const fresh = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
  expect65(dir, fresh.weight_map['model.layers.0.mlp.gate_proj.weight'], /tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[64,32\], config\.json implies \[48,32\]/);
  dir = make();
  delete fresh.weight_map['model.norm.weight'];
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(fresh));
  expect65(dir, 'model.safetensors.index.json', /tensor model\.norm\.weight is missing/);
});

t.test('pretrain --init from a sharded BF16 checkpoint; the checkpoint it writes carries the Hugging Face files', async (t) => {
  const dir = t.testdir();
  const w = weights();
  const hf = join(dir, 'hf');
  writeHf(hf, w, 'BF16', true);
  const tok = join(dir, 'tok');
  writeTokenizerDir(tok, formatRanks(Array.from({ length: 256 }, (_, i) => Uint8Array.of(i))), {
    format: 'mathpipe-tiktoken',
    version: 1,
    name: 'bytes',
    pat_str: MATH_PATTERN,
    n_vocab: 262,
    special_tokens: { '<|bos|>': 256, '<|eos|>': 257, '<|user|>': 258, '<|assistant|>': 259, '<|system|>': 260, '<|eot|>': 261 },
    bos_token: '<|bos|>',
    eos_token: '<|eos|>',
    pad_token: '<|eos|>',
    chat_tokens: { system: '<|system|>', user: '<|user|>', assistant: '<|assistant|>', end_of_turn: '<|eot|>' },
  });
  const data = join(dir, 'data');
  writeSyntheticTokens(data, 5000, 262, 3);
  const out = join(dir, 'out');
  const common = ['--data', data, '--seq-len', '32', '--batch-size', '2', '--lr', '1e-9', '--backend', 'wasm', '-q'];
  const r = await runCli(['pretrain', ...common, '-o', out, '--init', hf, '--steps', '2', '--tokenizer', tok]);
  t.equal(r.code, 0, r.stderr);
  t.same(readdirSync(out).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'optimizer.safetensors', 'tiktoken_config.json', 'tokenizer.json', 'tokenizer.tiktoken', 'tokenizer_config.json', 'trainer_state.json']);
  const st = openSafetensors(join(out, 'model.safetensors'));
  let worst = 0;
  for (const [name, orig] of w) {
    const got = st.get(name);
    t.equal(got.dtype, 'F32');
    const want = bf16ToF32(toBF16(orig));
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got.data as Float32Array)[i] - want[i]));
  }
  st.close();
  t.ok(worst < 1e-6, `the BF16 weights, moved only by 2 steps at lr 1e-9 (largest change ${worst})`);
  t.same(JSON.parse(readFileSync(join(out, 'generation_config.json'), 'utf8')), { bos_token_id: 256, eos_token_id: [257, 261], pad_token_id: 257 });
  const tc = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'));
  t.equal(tc.model_max_length, 64, "the model's context");
  t.match(tc.chat_template, /<\|eot\|>/);

  // --resume without --tokenizer carries the files over; a checkpoint saved before they existed gains them.
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) rmSync(join(out, f));
  const again = await runCli(['pretrain', ...common, '-o', out, '--resume', '--steps', '3']);
  t.equal(again.code, 0, again.stderr);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) t.ok(existsSync(join(out, f)), `${f} after --resume`);
  t.equal(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).model_max_length, 64);

  // Corrupt shard through the real binary: exit 65, the file named.
  truncateSync(join(hf, 'model-00002-of-00002.safetensors'), 100);
  const bad = await runCli(['pretrain', ...common, '-o', join(dir, 'bad'), '--init', hf, '--steps', '1']);
  t.equal(bad.code, 65, bad.stderr);
  t.match(bad.stderr, 'model-00002-of-00002.safetensors');
});
