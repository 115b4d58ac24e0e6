// `mathpipe pretrain`: train a Llama-style model from scratch (or continue one) on token datasets.
import type { CommandModule, Argv } from 'yargs';
import { seed } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';

const command: CommandModule = {
  command: 'pretrain',
  describe: 'Pretrain a Llama-style model on token datasets (mixture weights, AdamW, DeepSeek LR schedule, resumable checkpoints)',
  builder: (y: Argv) =>
    y
      .usage('mathpipe pretrain --data [W:]PREFIX ... -o CHECKPOINT_DIR [options]\n\nMetrics are JSONL on stdout (or --log FILE); progress goes to stderr only on a terminal.')
      .option('data', { type: 'string', array: true, default: [] as string[], describe: 'Token dataset PREFIX (.bin/.idx from `mathpipe tokenize`), optionally "WEIGHT:PREFIX"; repeat to mix' })
      .option('data-blend', { type: 'string', requiresArg: true, describe: 'JSON blend file: [{"weight":0.56,"prefix":"a"},...] or Megatron\'s ["0.56","a",...]' })
      .option('valid', { type: 'string', array: true, default: [] as string[], describe: 'Validation dataset PREFIX (repeatable); its first windows are scored every --eval-interval steps' })
      .option('out', { alias: 'o', type: 'string', requiresArg: true, describe: 'Checkpoint directory (replaced atomically at each save); must be absent, empty or a checkpoint' })
      .option('resume', { type: 'boolean', default: false, describe: 'Continue the run saved in --out exactly (weights, optimizer moments, step, data RNG)' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'Start a new run over the checkpoint in --out (without it, an existing checkpoint is refused)' })
      .option('init', { type: 'string', requiresArg: true, describe: 'Start from the weights (and config) of this checkpoint directory instead of random init' })
      .option('model', { alias: 'm', type: 'string', requiresArg: true, describe: 'Preset (tiny, bench, small, base, 1b, deepseek-math-7b) or a HF Llama config.json (default: tiny; with --resume it must match the saved model)' })
      .option('list-presets', { type: 'boolean', default: false, describe: 'Print the presets with their parameter counts (JSONL) and exit' })
      .option('vocab-size', { type: 'number', requiresArg: true, describe: 'Override the vocabulary size (default: the tokenizer\'s, rounded up to 64, else the preset\'s)' })
      .option('seq-len', { type: 'number', default: 128, describe: 'Tokens per training sequence' })
      .option('batch-size', { alias: 'b', type: 'number', default: 8, describe: 'Sequences per micro-batch (one forward/backward)' })
      .option('sampling', { choices: ['random', 'packed'], default: 'random', describe: 'Training sequences: random windows (nanoGPT) or packed (the stream cut into consecutive sequences, each used once per epoch, shuffled)' })
      .option('tokens-per-step', { type: 'number', requiresArg: true, describe: 'Tokens per optimizer step; gradients accumulate over tokens/(batch-size*seq-len) micro-batches (default: one micro-batch)' })
      .option('steps', { type: 'number', default: 100, describe: 'Total optimizer steps (the schedule is laid out over these)' })
      .option('lr', { type: 'number', default: 1e-3, describe: 'Peak learning rate' })
      .option('schedule', { choices: ['multistep', 'cosine', 'constant'], default: 'multistep', describe: 'LR schedule: DeepSeek multi-step (x0.316 after 80%, x0.1 after 90%), cosine, constant' })
      .option('warmup', { type: 'number', requiresArg: true, describe: 'Linear warmup steps (default: 2000 or 5% of --steps, whichever is less)' })
      .option('min-lr-ratio', { type: 'number', default: 0.1, describe: 'Cosine floor as a fraction of --lr' })
      .option('weight-decay', { type: 'number', default: 0.1, describe: 'Decoupled weight decay (not applied to norm weights)' })
      .option('beta1', { type: 'number', default: 0.9, describe: 'AdamW beta1' })
      .option('beta2', { type: 'number', default: 0.95, describe: 'AdamW beta2' })
      .option('eps', { type: 'number', default: 1e-8, describe: 'AdamW epsilon' })
      .option('clip', { type: 'number', default: 1.0, describe: 'Clip the global gradient norm to this (0 disables)' })
      .option('log-interval', { type: 'number', default: 1, describe: 'Write a metrics line every N steps' })
      .option('eval-interval', { type: 'number', default: 100, describe: 'Validation loss every N steps and at the end (needs --valid)' })
      .option('eval-batches', { type: 'number', default: 4, describe: 'Validation batches (of --batch-size sequences) per evaluation' })
      .option('save-interval', { type: 'number', default: 500, describe: 'Checkpoint every N steps (0: only at the end)' })
      .option('tokenizer', { type: 'string', requiresArg: true, describe: 'Tokenizer to store in the checkpoint: a tokenizer directory or a tiktoken encoding name (default: the one `tokenize` recorded in PREFIX.meta.json)' })
      .option('log', { type: 'string', requiresArg: true, describe: 'Append metrics JSONL to FILE instead of stdout' })
      .option('backend', { choices: ['auto', 'tensorflow', 'wasm', 'cpu'], describe: 'tfjs backend (default: $MATHPIPE_BACKEND or auto: tensorflow when @tensorflow/tfjs-node-gpu and a CUDA device are present, else wasm + native kernels)' })
      .options(seed)
      .check((a) => {
        if (a['list-presets']) return true;
        if (!a.out) throw new UsageError('--out (-o) CHECKPOINT_DIR is required');
        if (a.resume && a.overwrite) throw new UsageError('--resume continues the checkpoint in --out, --overwrite replaces it: give one');
        if (!a.resume && !(a.data as string[]).length && !a['data-blend']) throw new UsageError('give training data with --data PREFIX or --data-blend FILE');
        for (const k of ['seq-len', 'batch-size', 'steps', 'log-interval', 'eval-interval', 'eval-batches'] as const) {
          const v = a[k] as number;
          if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${k} must be a positive integer`);
        }
        if (!Number.isInteger(a['save-interval']) || (a['save-interval'] as number) < 0) throw new UsageError('--save-interval must be a non-negative integer');
        if (!((a.lr as number) > 0)) throw new UsageError('--lr must be positive');
        if (a.warmup !== undefined && (!Number.isInteger(a.warmup) || (a.warmup as number) < 0)) throw new UsageError('--warmup must be a non-negative integer');
        const tps = a['tokens-per-step'] as number | undefined;
        if (tps !== undefined && (!Number.isInteger(tps) || tps < 1)) throw new UsageError('--tokens-per-step must be a positive integer');
        for (const k of ['clip', 'weight-decay', 'min-lr-ratio', 'eps'] as const)
          if (!((a[k] as number) >= 0)) throw new UsageError(`--${k} must be a non-negative number`);
        for (const k of ['beta1', 'beta2'] as const)
          if (!((a[k] as number) >= 0 && (a[k] as number) < 1)) throw new UsageError(`--${k} must be in [0, 1)`);
        if (a['vocab-size'] !== undefined && (!Number.isInteger(a['vocab-size']) || (a['vocab-size'] as number) < 2)) throw new UsageError('--vocab-size must be an integer >= 2');
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
