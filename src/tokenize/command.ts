// `mathpipe tokenize` and its verbs. Option definitions only: the work is imported lazily in handlers.
import type { Argv, CommandModule } from 'yargs';
import { availableParallelism } from 'node:os';
import { output, skipInvalid, inputs, inputList, number, textField, workerCount } from '../cli/options.js';
import { trainCommand } from './train-command.js';
import { mixCommand } from './mix-command.js';
import { inspectCommand } from './inspect-command.js';

const TOKENIZER_HELP =
  'Built-in tiktoken encoding (cl100k_base, o200k_base, p50k_base, p50k_edit, r50k_base, gpt2) or a tokenizer directory from `tokenize train` or a checkpoint';

export const tokenizerOption = {
  tokenizer: { alias: 't', type: 'string', default: 'cl100k_base', requiresArg: true, describe: TOKENIZER_HELP },
} as const;

const encodeCommand: CommandModule = {
  command: '$0 [inputs..]',
  describe: 'Encode document JSONL into a Megatron-LM indexed dataset (PREFIX.bin + PREFIX.idx) or id JSONL',
  builder: (y: Argv) =>
    inputs(y)
      .options({
        ...tokenizerOption,
        ...output,
        output: { ...output.output, describe: 'Megatron: the dataset PREFIX (writes PREFIX.bin, PREFIX.idx, PREFIX.meta.json). JSONL: a file (default stdout)' },
        format: { alias: 'f', choices: ['megatron', 'jsonl'] as const, default: 'megatron', describe: 'megatron: .bin/.idx; jsonl: {"id","tokens"} lines for piping' },
        ...textField,
        jobs: {
          alias: ['j', 'workers'],
          type: 'number',
          default: Math.max(1, Math.min(8, availableParallelism())),
          describe: 'Encoder threads (0: encode in the main thread; at most 4x cores). Output is identical for any value',
        },
        eos: { type: 'boolean', default: true, describe: 'Append the end-of-text token to every document (--no-eos to turn off)' },
        bos: { type: 'boolean', default: false, describe: 'Prepend the beginning-of-text token to every document' },
        'allow-special': { type: 'boolean', default: false, describe: 'Encode special-token text found in documents (e.g. "<|endoftext|>") as the special id instead of plain text' },
        dtype: { choices: ['auto', 'uint16', 'int32'] as const, default: 'auto', describe: 'Token width in .bin; auto follows Megatron: uint16 below 65500 ids, else int32' },
        'chunk-bytes': { type: 'number', default: 1 << 20, hidden: true, describe: 'Bytes of input per work unit' },
        ...skipInvalid,
      })
      .example('$0 tokenize -t cl100k_base -o data/math docs.jsonl.gz', 'Megatron dataset data/math.bin + data/math.idx')
      .example('$0 tokenize -t tok/ -f jsonl docs.jsonl | head', 'token ids as JSONL, with a tokenizer from `tokenize train`')
      .example('zcat cc.jsonl.gz | $0 tokenize -j 2 -o data/cc', 'read stdin with two encoder threads'),
  handler: async (a) => {
    const workers = workerCount(a.jobs, '--jobs', 0);
    const chunkBytes = number(a['chunk-bytes'], '--chunk-bytes', { min: 1 });
    const { run } = await import('./encode.js');
    await run({
      inputs: inputList(a.inputs),
      output: a.output as string | undefined,
      tokenizer: String(a.tokenizer),
      format: a.format as 'megatron' | 'jsonl',
      textField: String(a['text-field']),
      workers,
      eos: Boolean(a.eos),
      bos: Boolean(a.bos),
      allowSpecial: Boolean(a['allow-special']),
      dtype: a.dtype as 'auto' | 'uint16' | 'int32',
      skipInvalid: Boolean(a['skip-invalid']),
      chunkBytes,
    });
  },
};

const command: CommandModule = {
  command: 'tokenize',
  describe: 'Token datasets: encode documents (tiktoken or a trained BPE), train a digit-splitting BPE, mix datasets, inspect',
  builder: (y: Argv) =>
    y
      .command(encodeCommand)
      .command(trainCommand)
      .command(mixCommand)
      .command(inspectCommand)
      .epilogue('Verbs: (none) encode, train, mix, inspect. See man mathpipe-tokenize.'),
  handler: () => {},
};

export default command;
