// The rows `mathpipe sft` trains on, for the PyTorch peer of bench/sft: the same records through sft's own code
// (examples -> chat template -> trained-token mask -> packed rows, epoch 0), written as JSON lines
// {"ids", "targets", "weights", "segments"} of one row each, plus the fraction of tokens that are data on stderr.
// Usage: node dist/bench/sft/rows.js DATA.jsonl TOKENIZER_DIR SEQ_LEN bfd|wrapped|none > rows.jsonl
import { readFileSync } from 'node:fs';
import { loadTokenizer } from '../../src/tokenizer/index.js';
import { chatFormat } from '../../src/sample/chat.js';
import { encodeConversation } from '../../src/sft/encode.js';
import { toConversation } from '../../src/sft/examples.js';
import { fillRatio, packEpoch, rowsToBatch, type Packing } from '../../src/sft/pack.js';

const [data, tokDir, seqLen, packing] = process.argv.slice(2);
const T = Number(seqLen);
const tok = loadTokenizer(tokDir);
const chat = chatFormat(tokDir, tok);
const fields = { prompt: 'prompt', completion: 'completion', lossOn: 'auto' as const, format: 'format' };
const examples = readFileSync(data, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l, i) => encodeConversation(toConversation({ value: JSON.parse(l) as never, raw: l, file: data, line: i + 1 }, fields), chat.text, tok))
  .filter((e) => e.trained.subarray(1, T).some((x) => x));
const rows = packEpoch(examples.map((e) => Math.min(T, e.ids.length)), T, packing as Packing, 1, 0);
const out: string[] = [];
for (const r of rows) {
  const b = rowsToBatch([r], examples, T, tok.pad);
  out.push(JSON.stringify({ ids: Array.from(b.ids), targets: Array.from(b.targets), weights: Array.from(b.weights!), segments: Array.from(b.segments) }));
}
process.stdout.write(out.join('\n') + '\n');
process.stderr.write(`${packing}: ${rows.length} rows, ${fillRatio(rows, T).toFixed(4)} of tokens are data\n`);
