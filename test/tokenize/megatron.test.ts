import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, runCli, lines } from '../helpers.js';

// Megatron-LM itself needs torch + apex; its reader's numpy logic is small, so the test runs a transcript of it.
const python = '/usr/bin/python3';
const hasNumpy = spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const reader = join(ROOT, 'test', 'tokenize', 'megatron_reader.py');

t.test('Megatron-LM reads our datasets back (uint16 and int32)', { skip: hasNumpy ? false : 'python3 with numpy not available' }, async (t) => {
  const docs = ['hello world', '', 'x = \\frac{1}{2} and 12345', 'ünïcödé 日本'].map((text, i) => JSON.stringify({ id: i, text })).join('\n') + '\n';
  const dir = t.testdir({ 'in.jsonl': docs });
  for (const tk of ['gpt2', 'cl100k_base']) {
    const prefix = join(dir, tk);
    t.equal((await runCli(['tokenize', '-q', '-t', tk, '-o', prefix, join(dir, 'in.jsonl')])).code, 0);
    const ours = lines((await runCli(['tokenize', '-q', '-t', tk, '-f', 'jsonl', join(dir, 'in.jsonl')])).stdout).map((l) => JSON.parse(l).tokens);
    const py = spawnSync(python, [reader, prefix], { encoding: 'utf8' });
    t.equal(py.status, 0, py.stderr);
    t.same(lines(py.stdout).map((l) => JSON.parse(l)), ours, `${tk}: same sequences through Megatron's reader`);
  }
});
