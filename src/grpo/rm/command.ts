// `mathpipe grpo rm label|train`: Math-Shepherd process labels from the policy's rollouts, and outcome / process
// reward models (a scalar head on the Llama core) trained on labels.
import type { Argv, CommandModule } from 'yargs';
import { inputList, inputs, number, optionalInteger, seed, skipInvalid } from '../../cli/options.js';
import { QUESTION_OPTIONS, SAMPLING_OPTIONS, STEP_MARKER, checkQuestionOptions, questionArgs, samplingArgs, stepSeparator } from '../options.js';
import { LABEL_RULES, RM_KINDS, type LabelRule, type RmKind } from './kinds.js';

const label: CommandModule = {
  command: 'label [inputs..]',
  describe: 'Math-Shepherd process labels: roll out the policy from every step prefix of its outputs; a step is good when the rollouts reach the gold answer',
  builder: (y: Argv) =>
    inputs(y, 'Question JSONL with gold answers; a record with a "completion" is labeled as it is, others get --samples outputs of the policy')
      .usage(
        'mathpipe grpo rm label -m POLICY [options] questions.jsonl > labels.jsonl\n\n' +
          'Each output is cut into steps (at blank lines or --step-marker, as grpo\'s process\n' +
          'advantages cut them). From the prefix ending with step k, --rollouts completions are\n' +
          'sampled from the policy; step k is good (1) when any of them (--rule most: more than half)\n' +
          'reaches the gold answer by the checker. The last step is good when the output is right,\n' +
          'which is also its outcome "label". Writes {"id","question","answer","completion","steps",\n' +
          '"step_labels","label"} per output, what rm train reads.',
      )
      .options({
        model: { alias: 'm', type: 'string', requiresArg: true, demandOption: true, describe: 'The policy checkpoint (samples and rollouts)' },
        output: { alias: 'o', type: 'string', requiresArg: true, describe: 'Output JSONL (default: stdout)' },
        samples: { alias: 'n', type: 'number', default: 4, describe: 'Outputs sampled per question without a "completion"' },
        rollouts: { alias: 'N', type: 'number', default: 8, describe: 'Completions rolled out from each step prefix (0: outcome labels only)' },
        rule: { choices: LABEL_RULES, default: 'any', describe: 'A step is good when any (Math-Shepherd\'s hard estimate) or most of its rollouts reach the gold answer' },
        temperature: { alias: 't', type: 'number', default: 1, describe: 'Sampling temperature of samples and rollouts' },
        'max-tokens': { type: 'number', default: 256, describe: 'Generated tokens at most per sample or rollout' },
        'step-marker': STEP_MARKER,
        'gen-batch': { type: 'number', default: 32, describe: 'Sequences decoded together' },
        backend: { choices: ['auto', 'tensorflow', 'wasm', 'cpu'], describe: 'tfjs backend (default: $MATHPIPE_BACKEND or auto)' },
        ...QUESTION_OPTIONS,
        ...SAMPLING_OPTIONS,
        ...skipInvalid,
        ...seed,
      })
      .check((a) => {
        checkQuestionOptions(a);
        for (const [k, min] of [['samples', 1], ['rollouts', 0], ['max-tokens', 1], ['gen-batch', 1]] as const) optionalInteger(a[k], `--${k}`, min);
        number(a.temperature, '--temperature', { min: 0 });
        return true;
      })
      .example('mathpipe grpo rm label -m sft --chat -n 4 -N 8 train.jsonl -o labels.jsonl', '4 outputs per question, each step judged by 8 rollouts')
      .example('mathpipe grpo rm label -m sft --step-marker ". " --rule most q.jsonl', 'Steps end at ". "; a step is good when most rollouts succeed'),
  handler: async (a) => {
    const { runRmLabel } = await import('./run.js');
    await runRmLabel({
      ...questionArgs(a),
      ...samplingArgs(a),
      model: a.model as string,
      inputs: inputList(a.inputs),
      output: a.output as string | undefined,
      temperature: a.temperature as number,
      maxTokens: a['max-tokens'] as number,
      samples: a.samples as number,
      rollouts: a.rollouts as number,
      rule: a.rule as LabelRule,
      sep: stepSeparator(a),
      genBatch: a['gen-batch'] as number,
      seed: a.seed as number,
      skipInvalid: Boolean(a['skip-invalid']),
      backend: a.backend as string | undefined,
    });
  },
};

const train: CommandModule = {
  command: 'train [inputs..]',
  describe: 'Train an outcome (ORM) or process (PRM) reward model: a scalar head on the Llama core, binary cross-entropy on labeled outputs',
  builder: (y: Argv) =>
    inputs(y, 'Labeled outputs JSONL (as rm label writes: "question", "completion" or "steps", "label", "step_labels")')
      .usage(
        'mathpipe grpo rm train --init CHECKPOINT -o RM --kind orm|prm [options] labels.jsonl ...\n\n' +
          'The model is the --init checkpoint\'s core with a head score.weight [1, hidden]\n' +
          '(transformers\' LlamaForSequenceClassification layout), read at the response\'s last token\n' +
          '(ORM, "label") or at each step\'s last token (PRM, "step_labels"); the loss is binary\n' +
          'cross-entropy of sigmoid(score). --init a reward model to continue training it (its kind,\n' +
          'prompt and steps). Metrics JSONL on stdout. The prompt options must be the ones grpo will\n' +
          'use; rm_config.json records them.',
      )
      .options({
        init: { type: 'string', requiresArg: true, demandOption: true, describe: 'The checkpoint to start from: a policy (a new head) or a reward model (continued)' },
        out: { alias: 'o', type: 'string', requiresArg: true, demandOption: true, describe: 'The reward model directory (a checkpoint with rm_config.json)' },
        overwrite: { type: 'boolean', default: false, describe: 'Replace a checkpoint in --out' },
        kind: { choices: RM_KINDS, describe: 'orm: one label per output; prm: a label per step (required unless --init is a reward model)' },
        valid: { type: 'string', requiresArg: true, describe: 'Held-out labeled outputs: loss and accuracy before and after' },
        steps: { type: 'number', requiresArg: true, describe: 'Optimizer steps (default: from --epochs)' },
        epochs: { type: 'number', default: 1, describe: 'Passes over the labels (when --steps is not given)' },
        'batch-size': { alias: 'b', type: 'number', default: 8, describe: 'Labeled outputs per step' },
        lr: { type: 'number', default: 1e-4, describe: 'AdamW learning rate (no weight decay)' },
        'step-marker': STEP_MARKER,
        backend: { choices: ['auto', 'tensorflow', 'wasm', 'cpu'], describe: 'tfjs backend (default: $MATHPIPE_BACKEND or auto)' },
        ...QUESTION_OPTIONS,
        ...skipInvalid,
        ...seed,
      })
      .check((a) => {
        checkQuestionOptions(a);
        for (const k of ['steps', 'batch-size']) optionalInteger(a[k], `--${k}`, 1);
        number(a.epochs, '--epochs', { above: 0 });
        number(a.lr, '--lr', { above: 0 });
        return true;
      })
      .example('mathpipe grpo rm train --init sft -o prm --kind prm --chat labels.jsonl', 'A PRM on rm label\'s step labels')
      .example('mathpipe grpo rm train --init sft -o orm --kind orm --chat --steps 200 labels.jsonl --valid dev-labels.jsonl', 'An ORM, with a held-out check'),
  handler: async (a) => {
    const { runRmTrain } = await import('./run.js');
    const q = questionArgs(a);
    await runRmTrain({
      init: a.init as string,
      out: a.out as string,
      overwrite: Boolean(a.overwrite),
      kind: a.kind as RmKind | undefined,
      inputs: inputList(a.inputs),
      valid: a.valid as string | undefined,
      steps: a.steps as number | undefined,
      epochs: a.epochs as number,
      batchSize: a['batch-size'] as number,
      lr: a.lr as number,
      fields: q.fields,
      prompt: q.prompt,
      sep: stepSeparator(a),
      seed: a.seed as number,
      skipInvalid: Boolean(a['skip-invalid']),
      backend: a.backend as string | undefined,
    });
  },
};

export const rmCommand: CommandModule = {
  command: 'rm',
  describe: 'Reward models for grpo: label (Math-Shepherd process labels), train (ORM / PRM)',
  builder: (y: Argv) => y.command([label, train]).demandCommand(1, 'Name a sub-command: label or train.'),
  handler: () => {},
};
