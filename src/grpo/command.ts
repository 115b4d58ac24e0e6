// `mathpipe grpo`: Group Relative Policy Optimization on questions with gold answers, the reward from the answer
// checker (or step rewards from a process scorer), sampler and trainer in one process.
import type { CommandModule, Argv, Options } from 'yargs';
import { inputList, inputs, integer, number, seed, skipInvalid } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';
import { writeOutputFile } from '../cli/output-file.js';
import { checkTrainingOptions, trainingArgs, trainingOptions } from '../train/options.js';
import { CHOICES, PRESETS, flagOf, type GrpoConfig } from './presets.js';
import { QUESTION_OPTIONS, SAMPLING_OPTIONS, STEP_MARKER, checkQuestionOptions, questionArgs, samplingArgs, stepSeparator } from './options.js';
import type { LabelRule } from './rm/kinds.js';
import { rmCommand } from './rm/command.js';

const plotCommand: CommandModule = {
  command: 'plot <metrics..>',
  describe: 'Reward, accuracy, held-out pass@K and maj@K over steps, runs side by side, as SVG',
  builder: (y: Argv) =>
    y
      .positional('metrics', { type: 'string', describe: 'Metrics JSONL of grpo runs (stdout or --log), as FILE or LABEL=FILE' })
      .options({
        output: { alias: 'o', type: 'string', requiresArg: true, describe: 'SVG file (default: stdout)' },
        title: { type: 'string', default: 'GRPO over steps', describe: 'Figure title' },
        smooth: { type: 'number', default: 10, describe: 'Training reward and accuracy as a moving mean over this many steps' },
      })
      .check((a) => {
        integer(a.smooth, '--smooth', 1);
        return true;
      })
      .example('mathpipe grpo plot outcome=o.jsonl process=p.jsonl -o fig.svg', 'Two runs in one figure'),
  handler: async (a) => {
    const { readRunMetrics, stepsSvg } = await import('./plot.js');
    const runs = await Promise.all((a.metrics as string[]).map(String).map(readRunMetrics));
    const svg = stepsSvg(runs, { title: a.title as string, smooth: a.smooth as number });
    if (a.output) writeOutputFile(a.output as string, svg);
    else process.stdout.write(svg);
  },
};

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

const runCommand: CommandModule = {
  command: '$0 [inputs..]',
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
        ...QUESTION_OPTIONS,
        ...SAMPLING_OPTIONS,
        'step-scorer': { type: 'string', requiresArg: true, describe: 'Process supervision: a command reading {"question","gold","completion","steps","correct"} JSONL on stdin and answering {"step_rewards":[...]} per line (see the man page)' },
        'step-marker': STEP_MARKER,
        'reward-model': { type: 'string', requiresArg: true, describe: 'A reward model (mathpipe grpo rm train): an ORM adds --rm-weight x P(right) to each output\'s reward; a PRM gives each step --rm-weight x P(step good), the rule reward added to the last step, into the process advantages' },
        'rm-weight': { type: 'number', default: 1, describe: 'Weight of the reward model\'s probability in the reward (beside --correct-weight and --format-weight)' },
        iterations: { type: 'number', default: 1, describe: 'Iterative RL: split --steps into this many iterations; between two, the reference resets to the policy and the reward model retrains on labels of the policy\'s samples (with --replay of the older labels)' },
        replay: { type: 'number', default: 0.1, describe: 'Iterative RL: the fraction of historical labels in the reward model\'s retraining set' },
        'rm-questions': { type: 'number', default: 16, describe: 'Iterative RL: questions whose policy samples are labeled at each iteration' },
        'rm-samples': { type: 'number', default: 4, describe: 'Iterative RL: samples per question to label' },
        rollouts: { type: 'number', default: 4, describe: 'Iterative RL with a PRM: completions rolled out from each step prefix (Math-Shepherd labels)' },
        'label-rule': { choices: ['any', 'most'], default: 'any', describe: 'Iterative RL with a PRM: a step is good when any (most) of its rollouts reach the gold answer' },
        'rm-steps': { type: 'number', default: 20, describe: 'Iterative RL: reward-model training steps per iteration' },
        'rm-lr': { type: 'number', default: 1e-4, describe: 'Iterative RL: the reward model\'s learning rate' },
        'rm-batch-size': { type: 'number', default: 8, describe: 'Iterative RL: labeled outputs per reward-model step' },
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
        number(a.epochs, '--epochs', { above: 0 });
        checkQuestionOptions(a);
        if (a['step-marker'] !== undefined && !a['step-scorer'] && !a['reward-model']) throw new UsageError('--step-marker needs --step-scorer or --reward-model (steps matter for process rewards only)');
        if (a['step-scorer'] && a['reward-model']) throw new UsageError('--step-scorer and --reward-model: one source of step rewards at a time');
        integer(a.iterations, '--iterations', 1);
        number(a.replay, '--replay', { min: 0, below: 1 });
        number(a['rm-weight'], '--rm-weight');
        for (const k of ['rm-questions', 'rm-samples', 'rm-batch-size']) integer(a[k], `--${k}`, 1);
        for (const k of ['rollouts', 'rm-steps']) integer(a[k], `--${k}`, 0);
        number(a['rm-lr'], '--rm-lr', { above: 0 });
        if (Array.isArray(a.preset)) throw new UsageError('--preset given twice');
        return true;
      })
      .example('mathpipe grpo --init sft-ckpt -o rl-ckpt --chat train.jsonl --valid dev.jsonl', 'The paper\'s GRPO (preset deepseekmath: G 64, beta 0.04, lr 1e-6)')
      .example('mathpipe grpo --init ckpt -o out --preset dapo -G 8 -b 4 --max-tokens 256 gsm8k/train.jsonl', 'DAPO\'s loss, smaller groups and outputs')
      .example('mathpipe grpo --init ckpt -o out --beta 0 --std-scope none --aggregation seq-mean-token-sum-norm q.jsonl', 'One knob at a time (here Dr. GRPO\'s)')
      .example('mathpipe grpo --init ckpt -o out --step-scorer "python3 prm.py" q.jsonl', 'Process supervision with step rewards from your scorer')
      .example('mathpipe grpo --init ckpt -o out --resume q.jsonl', 'Continue after Ctrl-C or a crash, exactly')
      .example('mathpipe grpo --init sft -o rl --reward-model prm --iterations 3 q.jsonl', 'A learned PRM\'s step rewards; 3 iterations, the PRM retrained on fresh Math-Shepherd labels between them')
      .example('mathpipe grpo rm label -m sft q.jsonl -o labels.jsonl && mathpipe grpo rm train --init sft -o prm --kind prm labels.jsonl', 'Process labels and a PRM (see grpo rm --help)')
      .example('mathpipe grpo plot a=a.jsonl b=b.jsonl -o runs.svg', 'Reward, accuracy, pass@K and maj@K over steps')
      .epilogue('Verbs: (none) train with GRPO, rm label, rm train, plot. See man mathpipe-grpo.'),
  handler: async (a) => {
    const { runGrpo } = await import('./run.js');
    const flags = Object.fromEntries((Object.keys(KNOBS) as (keyof GrpoConfig)[]).map((k) => [k, a[flagOf(k)]]));
    await runGrpo({
      ...trainingArgs(a),
      inputs: inputList(a.inputs),
      valid: a.valid as string | undefined,
      reference: a.reference as string | undefined,
      preset: a.preset as string | undefined,
      flags,
      ...questionArgs(a),
      ...samplingArgs(a),
      stepScorer: a['step-scorer'] as string | undefined,
      stepSeparator: stepSeparator(a),
      stepMarkerGiven: a['step-marker'] !== undefined,
      rewardModel: a['reward-model'] as string | undefined,
      rmWeight: a['rm-weight'] as number,
      iterations: a.iterations as number,
      iterative: { replay: a.replay as number, questions: a['rm-questions'] as number, samples: a['rm-samples'] as number, rollouts: a.rollouts as number, rule: a['label-rule'] as LabelRule, steps: a['rm-steps'] as number, lr: a['rm-lr'] as number, batchSize: a['rm-batch-size'] as number },
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

const command: CommandModule = {
  command: 'grpo',
  describe: 'Group Relative Policy Optimization (outcome and process supervision, learned reward models, iterative RL); rm label, rm train, plot',
  builder: (y: Argv) => y.command(runCommand).command(rmCommand).command(plotCommand),
  handler: () => {},
};

export default command;
