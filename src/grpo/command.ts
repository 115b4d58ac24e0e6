// `mathpipe grpo`: Group Relative Policy Optimization on questions with gold answers, the reward from the answer
// checker (or step rewards from a process scorer), sampler and trainer in one process.
import type { CommandModule, Argv, Options } from 'yargs';
import { inputs, inputList, seed, skipInvalid } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';
import { EXTRACT_MODES, type ExtractMode } from '../checker/extract.js';
import { checkTrainingOptions, trainingArgs, trainingOptions } from '../train/options.js';
import { CHOICES, PRESETS, flagOf, type GrpoConfig } from './presets.js';

const EXTRACTS = EXTRACT_MODES.filter((m) => m !== 'deepseek');

/** The loss knobs: no yargs defaults, so an absent flag leaves the preset's value. */
const KNOBS: Record<keyof GrpoConfig, Options> = {
  group_size: { alias: 'G', type: 'number', describe: 'Outputs sampled per question (G)' },
  batch_size: { alias: 'b', type: 'number', describe: 'Questions per step' },
  max_tokens: { type: 'number', describe: 'Generated tokens at most per output' },
  temperature: { alias: 't', type: 'number', describe: 'Sampling temperature of the rollouts' },
  mu: { type: 'number', describe: 'Policy updates per batch of outputs (the first is on-policy)' },
  epsilon: { type: 'number', describe: 'Clip range: the ratio is clipped to [1 - epsilon, 1 + epsilon-high]' },
  epsilon_high: { type: 'number', describe: 'Upper clip range (DAPO\'s clip-higher)' },
  beta: { type: 'number', describe: 'KL coefficient (0: no KL term; the KL to the reference is still measured)' },
  kl_estimator: { choices: CHOICES.kl_estimator, describe: 'k1: log(pi/pi_ref); k2: log(pi/pi_ref)^2 / 2; k3: pi_ref/pi - log(pi_ref/pi) - 1 (the paper\'s)' },
  kl_in: { choices: CHOICES.kl_in, describe: 'loss: beta x KL per token in the objective (GRPO); reward: beta x the output\'s summed KL taken off its reward' },
  std_scope: { choices: CHOICES.std_scope, describe: 'Advantages divided by the std of the group\'s rewards, of the whole step\'s, or not at all' },
  baseline: { choices: CHOICES.baseline, describe: 'mean: advantages relative to the group mean; none: the reward itself (online RFT)' },
  aggregation: { choices: CHOICES.aggregation, describe: 'Token losses to the step\'s loss: mean of per-output means (GRPO), mean over all tokens (DAPO), sum / (outputs x max-tokens) (Dr. GRPO)' },
  ratio: { choices: CHOICES.ratio, describe: 'Importance ratio per token (GRPO) or per output, length-normalised (GSPO)' },
  dynamic_sampling: { type: 'boolean', describe: 'Drop groups whose rewards are all equal and draw more questions (DAPO; at most --max-draws x --batch-size per step)' },
  overlong_buffer: { type: 'number', describe: 'Soft overlong punishment over this last fraction of --max-tokens: reward falls linearly to -1 (DAPO; 0: off)' },
  mask_truncated: { type: 'boolean', describe: 'Leave outputs cut by --max-tokens out of the loss' },
  correct_weight: { type: 'number', describe: 'Reward for a correct answer (the checker\'s verdict)' },
  format_weight: { type: 'number', describe: 'Reward for an answer that can be extracted at all (format reward)' },
  step_aggregation: { choices: CHOICES.step_aggregation, describe: 'Process supervision: a token\'s advantage is the sum (the paper) or the minimum of the normalised rewards of the steps ending at or after it' },
};

const knobOptions = Object.fromEntries(Object.entries(KNOBS).map(([k, v]) => [flagOf(k as keyof GrpoConfig), { ...v, describe: `${v.describe} [preset]` }]));

const command: CommandModule = {
  command: 'grpo [inputs..]',
  describe: 'Group Relative Policy Optimization: sample G outputs per question, reward them with the answer checker, train on group-relative advantages',
  builder: (y: Argv) =>
    inputs(y, 'Question JSONL files with gold answers ("question" and "answer" fields unless named)')
      .usage(
        'mathpipe grpo --init CHECKPOINT -o OUT [options] questions.jsonl ...\n\n' +
          'Each step draws --batch-size questions and samples --group-size outputs of each from the policy\n' +
          'as it is now (sampler and trainer are one model in this process), rewards them with the answer\n' +
          'checker, turns the rewards into group-relative advantages and makes --mu updates of the clipped\n' +
          'objective minus beta x KL to the reference (the starting policy). Per-step metrics are JSONL on\n' +
          'stdout (or --log FILE). --preset sets every loss knob (printed at start-up, saved in\n' +
          'OUT/grpo_config.json); a flag marked [preset] overrides one.',
      )
      .options(trainingOptions({ lr: 1e-6, schedule: 'constant', weightDecay: 0, evalInterval: 50, saveInterval: 0 }))
      .options({
        preset: { choices: Object.keys(PRESETS), describe: "Every loss knob as a published recipe has it (default deepseekmath; on --resume, the saved run's): deepseekmath (the paper), dr-grpo, dapo, gspo, online-rft; see the man page" },
        ...knobOptions,
        reference: { type: 'string', requiresArg: true, describe: 'Reference checkpoint of the KL term (default: --init, the starting policy); "none" without one (beta 0)' },
        valid: { type: 'string', requiresArg: true, describe: 'Held-out questions: greedy accuracy, pass@k and maj@k (k in 1, 4, 16, 64 up to --eval-samples) every --eval-interval steps, fixed seed' },
        'eval-samples': { type: 'number', default: 16, describe: 'Outputs per held-out question for pass@k / maj@k (1: greedy accuracy only)' },
        'question-field': { type: 'string', default: 'question', describe: 'The question field' },
        'answer-field': { type: 'string', default: 'answer', describe: 'The gold answer field' },
        'gold-extract': { choices: EXTRACTS, default: 'auto', describe: 'How to read the gold field (auto: "#### N" or \\boxed{} if present, else the whole field)' },
        extract: { choices: EXTRACTS, default: 'auto', describe: 'How the checker finds the answer in an output (auto: \\boxed{}, "The answer is", last number...)' },
        symbolic: { type: 'boolean', default: true, describe: 'Compare expressions symbolically (--no-symbolic: numbers and normal forms only, faster)' },
        'prompt-template': { type: 'string', default: '{question}', describe: 'Prompt text; {question} is replaced by the question (e.g. "{question}\\nPlease reason step by step, and put your final answer within \\\\boxed{}.")' },
        chat: { type: 'boolean', default: false, describe: 'Render the prompt as a user turn with the chat template (the checkpoint\'s, or --chat-template)' },
        'chat-template': { type: 'string', requiresArg: true, describe: 'Jinja chat template FILE (with --chat; the checkpoint saves it)' },
        system: { type: 'string', requiresArg: true, describe: 'With --chat: a system message first' },
        bos: { type: 'boolean', default: false, describe: 'Prepend the beginning-of-text token to plain prompts' },
        stop: { type: 'string', requiresArg: true, describe: 'Stop an output before this string (repeatable); end-of-text always stops' },
        'top-p': { type: 'number', default: 1, describe: 'Nucleus sampling of the rollouts (1: off)' },
        'step-scorer': { type: 'string', requiresArg: true, describe: 'Process supervision: a command reading {"question","gold","completion","steps","correct"} JSONL on stdin and answering {"step_rewards":[...]} per line (see the man page)' },
        'step-marker': { type: 'string', requiresArg: true, describe: 'Steps end with this text (default: at blank lines)' },
        'micro-batch': { type: 'number', default: 8, describe: 'Outputs per forward/backward pass (gradients accumulate over the step)' },
        'gen-batch': { type: 'number', default: 32, describe: 'Sequences decoded together while sampling' },
        'max-draws': { type: 'number', default: 4, describe: 'Dynamic sampling: questions drawn at most per step, as a multiple of --batch-size' },
        epochs: { type: 'number', default: 1, describe: 'Passes over the questions (when --steps is not given)' },
        warmup: { type: 'number', default: 0, describe: 'Linear warmup steps' },
        ...skipInvalid,
        ...seed,
      })
      .hide('model')
      .check((a) => {
        checkTrainingOptions(a, ['micro-batch', 'gen-batch', 'max-draws', 'eval-samples']);
        if (!a.init && !a.resume) throw new UsageError('--init CHECKPOINT (the policy to start from) is required');
        if (a.model !== undefined) throw new UsageError('--model: grpo trains the --init checkpoint (its shape is fixed)');
        if (!(typeof a.epochs === 'number' && a.epochs > 0)) throw new UsageError('--epochs must be positive');
        if (!((a['top-p'] as number) > 0 && (a['top-p'] as number) <= 1)) throw new UsageError('--top-p must be in (0, 1]');
        if (a['chat-template'] && !a.chat) throw new UsageError('--chat-template needs --chat');
        if (a.system !== undefined && !a.chat) throw new UsageError('--system needs --chat');
        if (a['step-marker'] === '') throw new UsageError('--step-marker must not be empty');
        if (a['step-marker'] !== undefined && !a['step-scorer']) throw new UsageError('--step-marker needs --step-scorer (steps matter for process rewards only)');
        if (Array.isArray(a.preset)) throw new UsageError('--preset given twice');
        return true;
      })
      .example('mathpipe grpo --init sft-ckpt -o rl-ckpt --chat train.jsonl --valid dev.jsonl', 'The paper\'s GRPO (preset deepseekmath: G 64, beta 0.04, lr 1e-6)')
      .example('mathpipe grpo --init ckpt -o out --preset dapo -G 8 -b 4 --max-tokens 256 gsm8k/train.jsonl', 'DAPO\'s loss, smaller groups and outputs')
      .example('mathpipe grpo --init ckpt -o out --beta 0 --std-scope none --aggregation seq-mean-token-sum-norm q.jsonl', 'One knob at a time (here Dr. GRPO\'s)')
      .example('mathpipe grpo --init ckpt -o out --step-scorer "python3 prm.py" q.jsonl', 'Process supervision with step rewards from your scorer')
      .example('mathpipe grpo --init ckpt -o out --resume q.jsonl', 'Continue after Ctrl-C or a crash, exactly'),
  handler: async (a) => {
    const { runGrpo } = await import('./run.js');
    const flags = Object.fromEntries((Object.keys(KNOBS) as (keyof GrpoConfig)[]).map((k) => [k, a[flagOf(k)]]));
    const strings = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);
    await runGrpo({
      ...trainingArgs(a),
      inputs: inputList(a.inputs),
      valid: a.valid as string | undefined,
      reference: a.reference as string | undefined,
      preset: a.preset as string | undefined,
      flags,
      fields: { question: a['question-field'] as string, answer: a['answer-field'] as string, goldExtract: a['gold-extract'] as 'auto' | ExtractMode },
      prompt: { template: a['prompt-template'] as string, chat: Boolean(a.chat), chatTemplate: a['chat-template'] as string | undefined, system: a.system as string | undefined, bos: Boolean(a.bos) },
      extract: a.extract as ExtractMode,
      symbolic: Boolean(a.symbolic),
      stop: strings(a.stop),
      topP: a['top-p'] as number,
      stepScorer: a['step-scorer'] as string | undefined,
      stepSeparator: a['step-marker'] !== undefined ? { kind: 'marker', text: a['step-marker'] as string } : { kind: 'blank-line' },
      skipInvalid: Boolean(a['skip-invalid']),
      epochs: a.epochs as number,
      warmup: a.warmup as number,
      microBatch: a['micro-batch'] as number,
      genBatch: a['gen-batch'] as number,
      maxDraws: a['max-draws'] as number,
      evalSamples: a['eval-samples'] as number,
      seed: a.seed as number,
    });
  },
};

export default command;
