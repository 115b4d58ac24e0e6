import type { Argv, CommandModule } from 'yargs';
import { integer, number, skipInvalid, inputs, inputList, textField, workerCount } from '../cli/options.js';
import { availableParallelism } from 'node:os';

export const trainCommand: CommandModule = {
  command: 'train [inputs..]',
  describe: 'Learn a byte-level BPE (digits split, LaTeX commands kept whole) and write a tiktoken-format tokenizer directory',
  builder: (y: Argv) =>
    inputs(y)
      .options({
        output: { alias: 'o', type: 'string', demandOption: true, requiresArg: true, describe: 'Directory to write (tokenizer.tiktoken + tiktoken_config.json)' },
        'vocab-size': { alias: 'v', type: 'number', default: 32000, describe: 'Total vocabulary: 256 bytes + merges + special tokens' },
        pattern: {
          type: 'string',
          default: 'math',
          requiresArg: true,
          describe: 'Pre-tokenisation regex: "math" (digits one by one, \\frac kept whole) or a custom pattern that both JavaScript and tiktoken accept',
        },
        ...textField,
        'min-frequency': { type: 'number', default: 2, describe: 'Stop merging when the most frequent pair occurs fewer times' },
        'max-bytes': { type: 'number', default: Infinity, defaultDescription: 'all', describe: 'Stop reading after about this many bytes of input JSONL (whole 1 MB chunks): train on the start of a large corpus' },
        jobs: { alias: ['j', 'workers'], type: 'number', default: Math.max(1, Math.min(8, availableParallelism())), describe: 'Threads counting pre-tokens (0: the main thread; at most 4x cores). The result is the same for any value' },
        special: { type: 'string', requiresArg: true, describe: 'An extra special token, after the standard ones (BOS, EOS, PAD, chat markers); repeat for more' },
        name: { type: 'string', default: 'mathpipe-bpe', requiresArg: true, describe: 'Name stored in the tokenizer config' },
        ...skipInvalid,
      })
      .example('$0 tokenize train -v 32000 -o tok/ corpus.jsonl.gz', 'a 32K math tokenizer')
      .example('$0 tokenize train -v 4096 --max-bytes 10e6 -o tok-small/ corpus.jsonl', 'a small one from the first 10 MB')
      .example('$0 tokenize -t tok/ -o data/math corpus.jsonl.gz', 'then encode with it'),
  handler: async (a) => {
    // The lower bound that matters (256 bytes + the special tokens) is train.ts's, with the count in its message.
    const vocabSize = integer(a['vocab-size'], '--vocab-size', 1, 2_000_000);
    const minFrequency = number(a['min-frequency'], '--min-frequency', { min: 1 });
    const maxBytes = a['max-bytes'] === Infinity ? Infinity : number(a['max-bytes'], '--max-bytes', { above: 0 });
    const workers = workerCount(a.jobs, '--jobs', 0);
    const { run } = await import('./train.js');
    await run({
      inputs: inputList(a.inputs),
      output: String(a.output),
      vocabSize,
      pattern: String(a.pattern),
      textField: String(a['text-field']),
      minFrequency,
      maxBytes,
      special: ([] as unknown[]).concat(a.special ?? []).map(String),
      name: String(a.name),
      skipInvalid: Boolean(a['skip-invalid']),
      workers,
    });
  },
};
