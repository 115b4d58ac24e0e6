import type { Argv, CommandModule } from 'yargs';
import { integer, seed } from '../cli/options.js';

export const inspectCommand: CommandModule = {
  command: 'inspect <prefix>',
  describe: 'Statistics of a token dataset (documents, tokens, length histogram, vocabulary use) and decoded samples',
  builder: (y: Argv) =>
    y
      .positional('prefix', { type: 'string', describe: 'Dataset PREFIX (PREFIX.bin + PREFIX.idx)' })
      .options({
        tokenizer: { alias: 't', type: 'string', requiresArg: true, describe: 'Tokenizer for decoding (default: the one named in PREFIX.meta.json; none: ids only)' },
        json: { type: 'boolean', default: false, describe: 'One JSON object on stdout instead of text' },
        samples: { type: 'number', default: 1, describe: 'Documents to decode: the first, then random ones (seeded)' },
        'sample-tokens': { type: 'number', default: 200, describe: 'Tokens shown per sample' },
        top: { type: 'number', default: 20, describe: 'Most frequent tokens to list' },
        ...seed,
      })
      .example('$0 tokenize inspect data/math', 'readable summary and the first document decoded')
      .example('$0 tokenize inspect --json --samples 3 data/math | jq .vocab', 'as JSON'),
  handler: async (a) => {
    for (const k of ['samples', 'sample-tokens', 'top'] as const) integer(a[k], `--${k}`, 0);
    const { run } = await import('./inspect.js');
    await run({
      prefix: String(a.prefix),
      tokenizer: a.tokenizer as string | undefined,
      json: Boolean(a.json),
      samples: Number(a.samples),
      sampleTokens: Number(a['sample-tokens']),
      top: Number(a.top),
      seed: Number(a.seed),
    });
  },
};
