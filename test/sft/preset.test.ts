// `sft --preset`: a flag given on the command line wins over the preset, the preset over the defaults, whatever
// form the flag takes (--x v, --x=v, an alias, a value equal to the default); parsed by the command's own builder.
import t from 'tap';
import yargs from 'yargs';
import command, { DEFAULTS, PRESETS } from '../../src/sft/command.js';

async function parse(args: string[]): Promise<Record<string, unknown>> {
  let got: Record<string, unknown> = {};
  await yargs(['sft', '--init', 'ck', '-o', 'out', ...args, 'train.jsonl'])
    .command({ ...command, handler: (a) => void (got = a) })
    .strict()
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseAsync();
  return got;
}

t.test('no preset: the defaults table', async (t) => {
  const a = await parse([]);
  for (const [k, v] of Object.entries(DEFAULTS)) t.equal(a[k], v, k);
});

t.test('a preset fills what was not given; given flags win in every form', async (t) => {
  const p = PRESETS['deepseekmath-instruct'];
  const a = await parse(['--preset', 'deepseekmath-instruct']);
  for (const k of Object.keys(DEFAULTS)) t.equal(a[k], p[k as keyof typeof p], `${k} from the preset`);
  const b = await parse(['--preset', 'deepseekmath-instruct', '-b', '2', '--seq-len=256', '--lr', '1e-4', '--packing', 'none']);
  t.equal(b['batch-size'], 2, 'an alias counts as given');
  t.equal(b['seq-len'], 256, '--flag=value counts as given');
  t.equal(b.lr, 1e-4, 'a value equal to the default still wins over the preset');
  t.equal(b.packing, 'none');
  t.equal(b['grad-accum'], 32, 'the rest from the preset');
  t.equal(b.steps, 500);
  // Something that merely looks like a flag (a file named --lr after --) is not a given flag.
  const c = await parse(['--preset', 'deepseekmath-instruct', '--', '--lr']);
  t.equal(c.lr, 5e-5);
});

t.test('--preset twice is a usage error', async (t) => {
  await t.rejects(parse(['--preset', 'deepseekmath-instruct', '--preset', 'deepseekmath-instruct']), /--preset given twice/);
});
