// The checkpoint layout and the rotary convention are Hugging Face's: a PyTorch Llama forward written from the
// HF definition, reading model.safetensors by hand, gives the same logits as our model. With transformers
// installed, LlamaForCausalLM.from_pretrained on the checkpoint must agree too.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/train/backend.js';
import { makeConfig, type LlamaConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { Rng } from '../../src/util/rng.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { ROOT } from '../helpers.js';

const PY = '/usr/bin/python3';
const has = (mod: string) => spawnSync(PY, ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;
const torch = has('torch');
const transformers = torch && has('transformers');
const script = join(ROOT, 'test', 'train', 'torch_llama_ref.py');

async function compare(t: Test, cfg: LlamaConfig, hf: boolean): Promise<void> {
  await initBackend('wasm');
  const tmp = t.testdir();
  const dir = join(tmp, 'ckpt');
  const model = LlamaModel.init(cfg, new Rng(5));
  await saveCheckpoint(dir, { config: cfg, model });
  const rng = new Rng(9);
  const B = 2;
  const T = 12;
  const ids = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(cfg.vocab_size)));
  const idsPath = join(tmp, 'ids.json');
  writeFileSync(idsPath, JSON.stringify(ids));
  const lg = tf.tidy(() => model.logits(tf.tensor2d(ids.flat(), [B, T], 'int32')));
  const ours = (await lg.data()) as Float32Array;
  lg.dispose();
  model.dispose();
  const r = spawnSync(PY, [script, dir, idsPath, ...(hf ? ['--hf'] : [])], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  t.equal(r.status, 0, r.stderr);
  const ref = (JSON.parse(r.stdout) as number[][][]).flat(2);
  t.equal(ref.length, ours.length, 'same logits shape');
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i] - ours[i]));
  t.ok(m < 2e-4, `max |logit difference| ${m}`);
}

const gqaUntied = makeConfig(
  { vocab_size: 97, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 32, tie_word_embeddings: false },
  { initializer_range: 0.3, rope_theta: 500 },
);
const tied = makeConfig(
  { vocab_size: 64, hidden_size: 24, intermediate_size: 40, num_hidden_layers: 1, num_attention_heads: 3, num_key_value_heads: 3, max_position_embeddings: 32, tie_word_embeddings: true },
  { initializer_range: 0.3 },
);

t.test('hand-written PyTorch Llama (HF layout) gives our logits: GQA, untied head', { skip: !torch && 'python3 with torch not found' }, (t) => compare(t, gqaUntied, false));
t.test('hand-written PyTorch Llama gives our logits: tied head, MHA', { skip: !torch && 'python3 with torch not found' }, (t) => compare(t, tied, false));
t.test('transformers LlamaForCausalLM loads the checkpoint with matching logits', { skip: !transformers && 'python3 with torch and transformers not found' }, (t) => compare(t, gqaUntied, true));
