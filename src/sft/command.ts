// `mathpipe sft`: supervised fine-tuning on conversations, loss on the trained turns only, examples packed
// without seeing each other.
import type { CommandModule, Argv } from 'yargs';
import { inputList, inputs, integer, seed, skipInvalid } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';
import { checkTrainingOptions, trainingArgs, trainingOptions } from '../train/options.js';
import { LOSS_ON, type LossOn } from './examples.js';
import { PACKINGS, type Packing } from './pack.js';

/**
 * The settings a preset may set, and their values without one. These flags have no yargs default, so a value in
 * the parsed arguments was given on the command line: the preset fills in the rest, then this table.
 */
export const DEFAULTS = { lr: 1e-4, schedule: 'constant', warmup: 0, 'seq-len': 512, packing: 'bfd', 'batch-size': 8, 'grad-accum': 1, steps: undefined } as const;
type Preset = { [K in keyof typeof DEFAULTS]?: unknown };

/** The paper's instruction tuning (DeepSeekMath 3.1): lr 5e-5 constant, 4K context, 256 sequences per step, 500 steps. */
export const PRESETS: Record<string, Preset> = {
  'deepseekmath-instruct': { lr: 5e-5, schedule: 'constant', warmup: 0, 'seq-len': 4096, packing: 'bfd', 'batch-size': 8, 'grad-accum': 32, steps: 500 },
};

/** Given flags, else the preset's value, else the default (in place: yargs middleware). */
export function applyPreset(a: Record<string, unknown>): void {
  const p = typeof a.preset === 'string' ? PRESETS[a.preset] : undefined;
  for (const [k, v] of Object.entries(DEFAULTS)) if (a[k] === undefined) a[k] = p && k in p ? p[k as keyof Preset] : v;
}

/** A flag documented with its default but parsed without one (see DEFAULTS). */
const presettable = <T extends object>(o: T, k: Exclude<keyof typeof DEFAULTS, 'steps'>) => ({ ...o, default: undefined, defaultDescription: String(DEFAULTS[k]) });

const shared = trainingOptions({ lr: DEFAULTS.lr, schedule: DEFAULTS.schedule, weightDecay: 0, evalInterval: 50, saveInterval: 0 });

const command: CommandModule = {
  command: 'sft [inputs..]',
  describe: 'Supervised fine-tuning: chat-template conversations, loss on responses only, packed without cross-contamination',
  builder: (y: Argv) =>
    inputs(y, 'Training JSONL: {"messages":[{"role","content"}]}, {"prompt","completion"}, or fields named by --prompt-field/--completion-field')
      .usage('mathpipe sft --init CHECKPOINT -o OUT [options] train.jsonl ...\n\nMetrics are JSONL on stdout (or --log FILE).')
      .options(shared)
      .options({
        lr: presettable(shared.lr, 'lr'),
        schedule: presettable(shared.schedule, 'schedule'),
        preset: { choices: Object.keys(PRESETS), describe: 'Settings of a known recipe (deepseekmath-instruct: lr 5e-5 constant, --seq-len 4096, bfd packing, 8 x 32 rows per step, 500 steps); explicit flags win' },
        valid: { type: 'string', requiresArg: true, describe: 'Held-out JSONL (same shapes): its loss on trained tokens every --eval-interval steps' },
        tokenizer: { type: 'string', requiresArg: true, describe: 'Tokenizer (directory or tiktoken name) when not fine-tuning a checkpoint (default: the --init checkpoint\'s)' },
        'chat-template': { type: 'string', requiresArg: true, describe: 'Jinja chat template FILE, or a built-in one with tool turns (markers: the tokenizer\'s chat markers; deepseek: "User: ...\\n\\nAssistant:" as eval --chat-template deepseek writes it). Default: the checkpoint\'s tokenizer_config.json (markers with tool turns when the data has tool turns), else built in' },
        'format-field': { type: 'string', default: 'format', describe: 'Field with the example\'s format tag (its loss is reported as loss_<tag>); without it: tool (a tool turn), pot (a trained code block), cot' },
        'eval-accuracy-interval': { type: 'number', default: 0, describe: 'Greedy accuracy of the live model on --valid through the answer checker every N steps (a multiple of --eval-interval) and at the end; 0: off' },
        'eval-max-tokens': { type: 'number', default: 256, describe: 'Tokens per greedy answer for --eval-accuracy-interval' },
        'gold-field': { type: 'string', requiresArg: true, describe: 'Field of --valid records with the gold answer ("#### 72" and \\boxed{} are read); default: the answer in the reference (last assistant) turn' },
        'prompt-field': { type: 'string', default: 'prompt', describe: 'Prompt field of records without "messages" (e.g. question)' },
        'completion-field': { type: 'string', default: 'completion', describe: 'Completion field of records without "messages" (e.g. answer)' },
        'loss-on': { choices: LOSS_ON, default: 'auto', describe: 'Trained turns: auto (the completion of prompt/completion records, every assistant turn of messages), completion (the last assistant turn), assistant, all, last (the last turn); tool output never' },
        'seq-len': presettable({ type: 'number', describe: 'Tokens per row (longer examples are cut)' }, 'seq-len'),
        packing: presettable({ choices: PACKINGS, describe: 'bfd: best-fit decreasing into rows; wrapped: concatenated and cut every --seq-len tokens; none: one example per row' }, 'packing'),
        'batch-size': presettable({ alias: 'b', type: 'number', describe: 'Rows per micro-batch (one forward/backward)' }, 'batch-size'),
        'grad-accum': presettable({ type: 'number', describe: 'Micro-batches per optimizer step' }, 'grad-accum'),
        epochs: { type: 'number', default: 3, describe: 'Passes over the data (when --steps is not given)' },
        warmup: presettable({ type: 'number', describe: 'Linear warmup steps' }, 'warmup'),
        ...skipInvalid,
        ...seed,
      })
      .middleware((a) => {
        if (Array.isArray(a.preset)) throw new UsageError('--preset given twice');
        applyPreset(a);
      }, true)
      .check((a) => {
        checkTrainingOptions(a, ['seq-len', 'batch-size', 'grad-accum', 'epochs', 'eval-max-tokens']);
        const acc = integer(a['eval-accuracy-interval'], '--eval-accuracy-interval', 0);
        if (acc > 0 && !a.valid) throw new UsageError('--eval-accuracy-interval needs --valid (the held-out questions)');
        if (acc > 0 && acc % (a['eval-interval'] as number) !== 0) throw new UsageError(`--eval-accuracy-interval ${acc} must be a multiple of --eval-interval ${a['eval-interval'] as number} (accuracy runs at those evaluations)`);
        if (!a.init && !a.resume && !a.tokenizer) throw new UsageError('give --init CHECKPOINT (the model to fine-tune), or --tokenizer and --model to start from random weights');
        return true;
      })
      .example('mathpipe sft --init ckpt -o sft-ckpt train.jsonl --valid dev.jsonl', 'Fine-tune a checkpoint on chat data, 3 epochs')
      .example('mathpipe sft --init ckpt -o out --prompt-field question --completion-field answer gsm8k/train.jsonl', 'Benchmark-style records')
      .example('mathpipe sft --init ckpt -o out --preset deepseekmath-instruct data.jsonl', 'The paper\'s settings')
      .example('mathpipe sft --init ckpt -o out --valid test.jsonl --eval-interval 50 --eval-accuracy-interval 100 --gold-field answer train.jsonl', 'Held-out greedy accuracy every 100 steps')
      .example('mathpipe sft --init ckpt -o out --chat-template deepseek tool-data.jsonl', 'Tool-integrated data, in the format eval run --style tool --chat-template deepseek prompts')
      .example('mathpipe sft --init ckpt -o out --resume data.jsonl', 'Continue after Ctrl-C or a crash, exactly'),
  handler: async (a) => {
    const { runSft } = await import('./run.js');
    await runSft({
      ...trainingArgs(a),
      inputs: inputList(a.inputs),
      valid: a.valid as string | undefined,
      tokenizer: a.tokenizer as string | undefined,
      chatTemplate: a['chat-template'] as string | undefined,
      fields: { prompt: a['prompt-field'] as string, completion: a['completion-field'] as string, lossOn: a['loss-on'] as LossOn, format: a['format-field'] as string },
      skipInvalid: Boolean(a['skip-invalid']),
      seqLen: a['seq-len'] as number,
      packing: a.packing as Packing,
      batchSize: a['batch-size'] as number,
      gradAccum: a['grad-accum'] as number,
      epochs: a.epochs as number,
      warmup: a.warmup as number,
      seed: a.seed as number,
      evalAccuracyInterval: a['eval-accuracy-interval'] as number,
      evalMaxTokens: a['eval-max-tokens'] as number,
      goldField: a['gold-field'] as string | undefined,
    });
  },
};

export default command;
