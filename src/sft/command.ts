// `mathpipe sft`: supervised fine-tuning on conversations, loss on the trained turns only, examples packed
// without seeing each other.
import type { CommandModule, Argv } from 'yargs';
import { inputs, inputList, seed, skipInvalid } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';
import { checkTrainingOptions, trainingArgs, trainingOptions } from '../train/options.js';
import { LOSS_ON, type LossOn } from './examples.js';
import { PACKINGS, type Packing } from './pack.js';

/** The paper's instruction tuning (DeepSeekMath 3.1): lr 5e-5 constant, 4K context, 256 sequences per step, 500 steps. */
const PRESETS: Record<string, Record<string, unknown>> = {
  'deepseekmath-instruct': { lr: 5e-5, schedule: 'constant', warmup: 0, 'seq-len': 4096, packing: 'bfd', 'batch-size': 8, 'grad-accum': 32, steps: 500 },
};

const command: CommandModule = {
  command: 'sft [inputs..]',
  describe: 'Supervised fine-tuning: chat-template conversations, loss on responses only, packed without cross-contamination',
  builder: (y: Argv) =>
    inputs(y, 'Training JSONL: {"messages":[{"role","content"}]}, {"prompt","completion"}, or fields named by --prompt-field/--completion-field')
      .usage('mathpipe sft --init CHECKPOINT -o OUT [options] train.jsonl ...\n\nMetrics are JSONL on stdout (or --log FILE).')
      .options(trainingOptions({ lr: 1e-4, schedule: 'constant', weightDecay: 0, evalInterval: 50, saveInterval: 0 }))
      .options({
        preset: { choices: Object.keys(PRESETS), describe: 'Settings of a known recipe (deepseekmath-instruct: lr 5e-5 constant, --seq-len 4096, bfd packing, 8 x 32 rows per step, 500 steps); explicit flags win' },
        valid: { type: 'string', requiresArg: true, describe: 'Held-out JSONL (same shapes): its loss on trained tokens every --eval-interval steps' },
        tokenizer: { type: 'string', requiresArg: true, describe: 'Tokenizer (directory or tiktoken name) when not fine-tuning a checkpoint (default: the --init checkpoint\'s)' },
        'chat-template': { type: 'string', requiresArg: true, describe: 'Jinja chat template FILE (default: the checkpoint\'s tokenizer_config.json, else a built-in one)' },
        'prompt-field': { type: 'string', default: 'prompt', describe: 'Prompt field of records without "messages" (e.g. question)' },
        'completion-field': { type: 'string', default: 'completion', describe: 'Completion field of records without "messages" (e.g. answer)' },
        'loss-on': { choices: LOSS_ON, default: 'auto', describe: 'Trained turns: auto (the completion of prompt/completion records, every assistant turn of messages), completion (the last assistant turn), assistant, all, last (the last turn); tool output never' },
        'seq-len': { type: 'number', default: 512, describe: 'Tokens per row (longer examples are cut)' },
        packing: { choices: PACKINGS, default: 'bfd', describe: 'bfd: best-fit decreasing into rows; wrapped: concatenated and cut every --seq-len tokens; none: one example per row' },
        'batch-size': { alias: 'b', type: 'number', default: 8, describe: 'Rows per micro-batch (one forward/backward)' },
        'grad-accum': { type: 'number', default: 1, describe: 'Micro-batches per optimizer step' },
        epochs: { type: 'number', default: 3, describe: 'Passes over the data (when --steps is not given)' },
        warmup: { type: 'number', default: 0, describe: 'Linear warmup steps' },
        ...skipInvalid,
        ...seed,
      })
      .middleware((a) => {
        // A preset fills in what the command line did not set.
        const p = a.preset ? PRESETS[a.preset as string] : undefined;
        if (!p) return;
        const given = new Set(process.argv.filter((x) => x.startsWith('--')).map((x) => x.slice(2).split('=')[0]));
        if (process.argv.includes('-b')) given.add('batch-size');
        for (const [k, v] of Object.entries(p)) if (!given.has(k)) a[k] = v;
      }, true)
      .check((a) => {
        checkTrainingOptions(a, ['seq-len', 'batch-size', 'grad-accum', 'epochs']);
        if (!a.init && !a.resume && !a.tokenizer) throw new UsageError('give --init CHECKPOINT (the model to fine-tune), or --tokenizer and --model to start from random weights');
        return true;
      })
      .example('mathpipe sft --init ckpt -o sft-ckpt train.jsonl --valid dev.jsonl', 'Fine-tune a checkpoint on chat data, 3 epochs')
      .example('mathpipe sft --init ckpt -o out --prompt-field question --completion-field answer gsm8k/train.jsonl', 'Benchmark-style records')
      .example('mathpipe sft --init ckpt -o out --preset deepseekmath-instruct data.jsonl', 'The paper\'s settings')
      .example('mathpipe sft --init ckpt -o out --resume data.jsonl', 'Continue after Ctrl-C or a crash, exactly'),
  handler: async (a) => {
    const { runSft } = await import('./run.js');
    await runSft({
      ...trainingArgs(a),
      inputs: inputList(a.inputs),
      valid: a.valid as string | undefined,
      tokenizer: a.tokenizer as string | undefined,
      chatTemplate: a['chat-template'] as string | undefined,
      fields: { prompt: a['prompt-field'] as string, completion: a['completion-field'] as string, lossOn: a['loss-on'] as LossOn },
      skipInvalid: Boolean(a['skip-invalid']),
      seqLen: a['seq-len'] as number,
      packing: a.packing as Packing,
      batchSize: a['batch-size'] as number,
      gradAccum: a['grad-accum'] as number,
      epochs: a.epochs as number,
      warmup: a.warmup as number,
      seed: a.seed as number,
    });
  },
};

export default command;
