import type { Argv, CommandModule } from 'yargs';
import { number, seed } from '../cli/options.js';

export const mixCommand: CommandModule = {
  command: 'mix <sources..>',
  describe: 'Mix token datasets by weight into one shuffled dataset (+ validation split) or a blend spec for pretrain',
  builder: (y: Argv) =>
    y
      .positional('sources', { type: 'string', array: true, describe: 'WEIGHT:PREFIX for each dataset (PREFIX.bin + PREFIX.idx); weights are normalised' })
      .options({
        output: { alias: 'o', type: 'string', requiresArg: true, describe: 'Write the mixture to PREFIX.bin/.idx (and PREFIX.valid.bin/.idx with --valid-fraction)' },
        blend: { type: 'string', requiresArg: true, describe: 'Write a blend spec JSON ({"datasets":[{"weight","prefix"}...]}) that `pretrain --data-blend` reads' },
        tokens: { type: 'number', describe: 'Training tokens in the mixture (default: the most that repeats no source); sources with too few tokens are repeated' },
        'valid-fraction': { type: 'number', default: 0, describe: 'Fraction of each source\'s documents held out for PREFIX.valid, mixed with the same weights' },
        ...seed,
      })
      .example('$0 tokenize mix -o data/mix --valid-fraction 0.01 56:data/math 4:data/algebraic 10:data/arxiv 20:data/code 10:data/nl', 'the DeepSeekMath mixture')
      .example('$0 tokenize mix --blend blend.json 0.7:data/math 0.3:data/nl', 'a blend spec only, nothing copied')
      .example('$0 tokenize mix -o data/mix --tokens 1e9 --seed 7 56:data/math 44:data/nl', 'exactly 1B tokens (to within one document per source)'),
  handler: async (a) => {
    const { run, parseSource } = await import('./mix.js');
    const tokens = a.tokens === undefined ? undefined : number(a.tokens, '--tokens', { above: 0 });
    await run({
      sources: (a.sources as string[]).map((s) => parseSource(String(s))),
      output: a.output as string | undefined,
      blend: a.blend as string | undefined,
      tokens: tokens === undefined ? undefined : Math.round(tokens),
      validFraction: number(a['valid-fraction'], '--valid-fraction', { min: 0, below: 1 }),
      seed: Number(a.seed),
    });
  },
};
