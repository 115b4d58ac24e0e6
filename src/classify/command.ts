// `mathpipe classify`: a fastText-compatible text classifier (train / predict / test / format).
// Option definitions only; the work is imported lazily by each handler.
import type { Argv, CommandModule, Options } from 'yargs';
import { inputs, output, skipInvalid, textField } from '../cli/options.js';

const labeledInput = {
  format: { choices: ['auto', 'jsonl', 'fasttext'], default: 'auto', describe: 'Input format: JSONL records, or fastText lines ("__label__x text"); auto looks at the first line' },
  'label-field': { type: 'string', default: 'label', describe: 'JSONL field holding the label (a string, or a list of strings for several labels)' },
} as const satisfies Record<string, Options>;

const modelOpt = {
  model: { alias: 'm', type: 'string', demandOption: true, requiresArg: true, describe: 'Model file (.bin from mathpipe or fastText; fastText .ftz quantized models too)' },
} as const satisfies Record<string, Options>;

const normalizeAuto = {
  normalize: {
    choices: ['auto', 'web', 'none'],
    default: 'auto',
    describe: 'Text normalisation: auto = the one the model was trained with (stored by mathpipe; "none" for fastText-made models)',
  },
} as const satisfies Record<string, Options>;

const train: CommandModule = {
  command: 'train [inputs..]',
  describe: 'Train a classifier from labeled JSONL or fastText text; write a fastText .bin model',
  builder: (y: Argv) =>
    inputs(y, 'Labeled training data: JSONL ({"text", "label"}) or fastText lines; "-" or none reads stdin')
      // Declared once: declaring -o twice makes yargs list the alias twice ("-o, -o, --output").
      .options({ output: { ...output.output, demandOption: true, describe: 'Model file to write (fastText .bin format)' }, ...textField, ...labeledInput, ...skipInvalid })
      .options({
        normalize: { choices: ['web', 'none'], describe: 'Text normalisation, stored in the model [default: web for JSONL, none for fastText text]' },
        valid: { type: 'string', requiresArg: true, describe: 'Labeled validation file: after each epoch, print its P@1/R@1 in the metrics line' },
        dim: { type: 'number', default: 100, describe: 'Size of word vectors' },
        lr: { type: 'number', default: 0.1, describe: 'Learning rate (decays linearly to 0)' },
        epoch: { type: 'number', default: 5, describe: 'Number of epochs' },
        wordNgrams: { type: 'number', default: 1, describe: 'Max length of word n-grams' },
        minCount: { type: 'number', default: 1, describe: 'Minimal number of word occurrences' },
        minCountLabel: { type: 'number', default: 0, describe: 'Minimal number of label occurrences' },
        minn: { type: 'number', default: 0, describe: 'Min length of char n-grams (0: none)' },
        maxn: { type: 'number', default: 0, describe: 'Max length of char n-grams (0: none)' },
        bucket: { type: 'number', default: 2000000, describe: 'Number of hash buckets for n-grams (0 when wordNgrams 1 and maxn 0, as fastText)' },
        loss: { choices: ['softmax', 'hs', 'ova', 'one-vs-all', 'ns'], default: 'softmax', describe: 'Loss function' },
        neg: { type: 'number', default: 5, describe: 'Negatives sampled (loss ns)' },
        lrUpdateRate: { type: 'number', default: 100, describe: 'Tokens a thread processes between updates of the shared learning-rate counter' },
        t: { type: 'number', default: 1e-4, describe: 'Sampling threshold (stored in the model; supervised training does not subsample, as in fastText)' },
        jobs: { alias: ['j', 'thread'], type: 'number', describe: 'Training threads, at most 4x cores [default: min(12, CPUs)]' },
        seed: { type: 'number', default: 0, describe: 'Random seed (fastText\'s default 0). With --thread 1 a run is reproducible' },
        label: { type: 'string', default: '__label__', describe: 'Label prefix' },
      })
      .example('$0 classify train -o math.bin --dim 256 --lr 0.1 --wordNgrams 3 --minCount 3 --epoch 3 seeds.jsonl', 'The DeepSeekMath settings')
      .example('$0 classify train -o m.bin --lr 0.5 --epoch 25 --wordNgrams 2 --valid dev.jsonl train.jsonl', 'Small seed sets: higher lr, more epochs; per-epoch dev metrics on stdout')
      .example('$0 classify train -o m.bin train.txt', 'fastText text format ("__label__math some text")'),
  handler: async (argv) => {
    const { runTrain } = await import('./train-run.js');
    await runTrain(argv);
  },
};

const predict: CommandModule = {
  command: 'predict [inputs..]',
  describe: 'Add the probability of a label to each document (JSONL in, the same records out)',
  builder: (y: Argv) =>
    inputs(y)
      .options({ ...modelOpt, ...output, ...textField, ...normalizeAuto, ...skipInvalid })
      .options({
        label: { type: 'string', default: 'math', describe: 'Label whose probability is the score ("math" or "__label__math")' },
        'score-field': { type: 'string', default: 'score', describe: 'Field the probability is written to' },
        k: { type: 'number', default: 0, describe: 'Also add "labels": the top k labels with probabilities (0: none; -1: all)' },
        threshold: { type: 'number', default: 0, describe: 'Keep only documents whose score is at least this' },
        jobs: { alias: ['j', 'thread'], type: 'number', default: 1, describe: 'Scoring threads, at most 4x cores (output order is input order); worth raising only on idle cores: scoring is a few microseconds a token' },
      })
      .example('$0 classify predict -m math.bin pages.jsonl.gz > scored.jsonl', 'Score pages')
      .example('$0 classify predict -m math.bin --threshold 0.5 pages.jsonl | head', 'Only likely-math pages')
      .example('$0 classify predict -m fasttext_model.bin --k 3 docs.jsonl', 'A model trained by `fasttext supervised`, top 3 labels'),
  handler: async (argv) => {
    const { runPredict } = await import('./predict-run.js');
    await runPredict(argv);
  },
};

const test: CommandModule = {
  command: 'test [inputs..]',
  describe: 'Evaluate a model on labeled data: P@k, R@k and per-label precision/recall/F1 as JSON',
  builder: (y: Argv) =>
    inputs(y, 'Labeled data: JSONL or fastText lines; "-" or none reads stdin')
      .options({ ...modelOpt, ...textField, ...labeledInput, ...normalizeAuto, ...skipInvalid, ...output })
      .options({
        k: { type: 'number', default: 1, describe: 'Predictions per document' },
        threshold: { type: 'number', default: 0, describe: 'Only predictions with at least this probability count' },
        label: { type: 'string', requiresArg: true, describe: 'Label prefix the model was trained with (the .bin does not store it) [default: "__label__"]' },
      })
      .example('$0 classify test -m math.bin dev.jsonl', 'P@1, R@1 and per-label scores')
      .example('$0 classify test -m model.bin --k 2 dev.txt | jq .precision', 'A fastText test file'),
  handler: async (argv) => {
    const { runTest } = await import('./test-run.js');
    await runTest(argv);
  },
};

const format: CommandModule = {
  command: 'format [inputs..]',
  describe: 'Write labeled JSONL as fastText training lines, normalised exactly as `classify train` does',
  builder: (y: Argv) =>
    inputs(y)
      .options({ ...output, ...textField, ...skipInvalid })
      .options({
        'label-field': labeledInput['label-field'],
        normalize: { choices: ['web', 'none'], default: 'web', describe: 'Text normalisation' },
        label: { type: 'string', default: '__label__', describe: 'Label prefix' },
      })
      .example('$0 classify format train.jsonl > train.txt && fasttext supervised -input train.txt -output m', 'Train the same data with fastText'),
  handler: async (argv) => {
    const { runFormat } = await import('./format-run.js');
    await runFormat(argv);
  },
};

const command: CommandModule = {
  command: 'classify <command>',
  describe: 'fastText-compatible text classifier: train, predict, test, format',
  builder: (y: Argv) =>
    y
      .command([train, predict, test, format])
      .demandCommand(1, 'Name a sub-command: train, predict, test or format.')
      .example('$0 classify train -o math.bin train.jsonl', 'Train (fastText .bin out)')
      .example('$0 classify predict -m math.bin pages.jsonl', 'Add "score" to each page')
      .example('$0 classify test -m math.bin dev.jsonl', 'Precision/recall as JSON'),
  handler: () => {},
};

export default command;
