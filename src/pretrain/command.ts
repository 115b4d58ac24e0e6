// `mathpipe pretrain`: train a Llama-style model from scratch (or continue one) on token datasets.
import type { CommandModule, Argv } from 'yargs';
import { optionalInteger, seed } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';
import { checkTrainingOptions, trainingOptions } from '../train/options.js';

const command: CommandModule = {
  command: 'pretrain',
  describe: 'Pretrain a Llama-style model on token datasets (mixture weights, AdamW, DeepSeek LR schedule, resumable checkpoints)',
  builder: (y: Argv) =>
    y
      .usage('mathpipe pretrain --data [W:]PREFIX ... -o CHECKPOINT_DIR [options]\n\nMetrics are JSONL on stdout (or --log FILE); progress goes to stderr only on a terminal.')
      .option('data', { type: 'string', array: true, default: [] as string[], describe: 'Token dataset PREFIX (.bin/.idx from `mathpipe tokenize`), optionally "WEIGHT:PREFIX"; repeat to mix' })
      .option('data-blend', { type: 'string', requiresArg: true, describe: 'JSON blend file: [{"weight":0.56,"prefix":"a"},...] or Megatron\'s ["0.56","a",...]' })
      .options(trainingOptions({ lr: 1e-3, schedule: 'multistep', steps: 100, weightDecay: 0.1, evalInterval: 100, saveInterval: 500 }))
      .option('valid', { type: 'string', array: true, default: [] as string[], describe: 'Validation dataset PREFIX (repeatable); its first windows are scored every --eval-interval steps' })
      .option('list-presets', { type: 'boolean', default: false, describe: 'Print the presets with their parameter counts (JSONL) and exit' })
      .option('vocab-size', { type: 'number', requiresArg: true, describe: 'Override the vocabulary size (default: the tokenizer\'s, rounded up to 64, else the preset\'s)' })
      .option('seq-len', { type: 'number', default: 128, describe: 'Tokens per training sequence' })
      .option('batch-size', { alias: 'b', type: 'number', default: 8, describe: 'Sequences per micro-batch (one forward/backward)' })
      .option('sampling', { choices: ['random', 'packed'], default: 'random', describe: 'Training sequences: random windows (nanoGPT) or packed (the stream cut into consecutive sequences, each used once per epoch, shuffled)' })
      .option('tokens-per-step', { type: 'number', requiresArg: true, describe: 'Tokens per optimizer step; gradients accumulate over tokens/(batch-size*seq-len) micro-batches (default: one micro-batch)' })
      .option('warmup', { type: 'number', requiresArg: true, describe: 'Linear warmup steps (default: 2000 or 5% of --steps, whichever is less)' })
      .option('eval-batches', { type: 'number', default: 4, describe: 'Validation batches (of --batch-size sequences) per evaluation' })
      .option('tokenizer', { type: 'string', requiresArg: true, describe: 'Tokenizer to store in the checkpoint: a tokenizer directory or a tiktoken encoding name (default: the one `tokenize` recorded in PREFIX.meta.json)' })
      .options(seed)
      .check((a) => {
        if (a['list-presets']) return true;
        checkTrainingOptions(a, ['seq-len', 'batch-size', 'eval-batches']);
        if (!a.resume && !(a.data as string[]).length && !a['data-blend']) throw new UsageError('give training data with --data PREFIX or --data-blend FILE');
        optionalInteger(a['tokens-per-step'], '--tokens-per-step', 1);
        optionalInteger(a['vocab-size'], '--vocab-size', 2);
        return true;
      })
      .example('mathpipe pretrain --data toks/math -o ckpt --model tiny --steps 50', 'Train the tiny preset for 50 steps')
      .example('mathpipe pretrain --data 0.56:toks/math --data 0.44:toks/code -o ckpt --tokens-per-step 65536 --valid toks/val', 'Mix two datasets, accumulate to 64K tokens per step, validate')
      .example('mathpipe pretrain --data toks/math -o ckpt --sampling packed --steps 1000', 'Packed sequences: every token once per epoch')
      .example('mathpipe pretrain --data toks/math -o ckpt --resume', 'Continue a run that was stopped (Ctrl-C saves a checkpoint) or killed, exactly')
      .example('mathpipe pretrain --data toks/math -o ckpt --overwrite --steps 10', 'Replace the run in ckpt with a new one')
      .example('mathpipe pretrain --list-presets', 'Show model presets and their parameter counts'),
  handler: async (argv) => {
    const { run } = await import('./run.js');
    await run(argv as unknown as Parameters<typeof run>[0]);
  },
};

export default command;
