// `mathpipe grade`: grade existing predictions (any JSONL with a response and a gold answer).
import type { CommandModule } from 'yargs';
import { UsageError } from '../cli/errors.js';
import { inputList, inputs, number, optionalInteger, output, skipInvalid } from '../cli/options.js';

export const GRADE_EXTRACT = ['auto', 'boxed', 'answer-tag', 'answer-is', 'gsm8k', 'last-number', 'choice', 'none', 'deepseek'] as const;
const DEEPSEEK_TASKS = ['gsm8k-cot', 'math-cot', 'math', 'last-single', 'sat', 'mmlu-stem', 'ocw', 'cmath-cot', 'gaokao-mathcloze', 'gaokao-mathqa', 'gsm8k-pal', 'math-pal'];

const command: CommandModule = {
  command: 'grade [inputs..]',
  describe: 'Grade model responses against gold answers (the answer checker; also GRPO\'s reward)',
  builder: (y) =>
    inputs(y)
      .options({
        ...output,
        ...skipInvalid,
        'response-field': { type: 'string', describe: 'Field holding the response (string or array of strings). Default: the first of response, completion, output, prediction, code' },
        'gold-field': { type: 'string', describe: 'Field holding the gold answer. Default: the first of gold, answer, ground_truth, gt, target' },
        extract: { choices: GRADE_EXTRACT, default: 'auto', describe: 'How to find the answer in a response (auto: <answer> tag, last \\boxed{} unless a later "The (final) answer is ..." line, ####, last number; deepseek: DeepSeek-Math\'s own extraction and comparison for --task, see man mathpipe-grade)' },
        task: { choices: DEEPSEEK_TASKS, default: 'math', describe: 'With --extract deepseek: which of DeepSeek\'s extraction/eval functions (gsm8k-cot, math-cot, sat, ... ; math: its zero-shot MATH one)' },
        'question-field': { type: 'string', describe: 'Field holding the question (DeepSeek splits "separated by commas" answers). Default: question or problem when present' },
        ordered: { type: 'boolean', default: false, describe: 'List answers are ordered ("1, 2" is not "2, 1"); sets in braces stay unordered' },
        'gold-extract': { choices: GRADE_EXTRACT, default: 'auto', describe: 'How to read the gold field (auto: "#### N" or \\boxed{} if present, else the whole field)' },
        symbolic: { type: 'boolean', default: true, describe: 'Use the CAS for non-numeric answers (--no-symbolic: text and numbers only)' },
        cas: { choices: ['ce', 'mathjs'], default: 'ce', describe: 'CAS for expressions: ce (@cortex-js/compute-engine parses the LaTeX; the default, by measured agreement) or mathjs (LaTeX rewritten to mathjs syntax)' },
        timeout: { type: 'number', default: 5, describe: 'Seconds one check may take before it counts as incorrect (runs in worker threads)' },
        jobs: { alias: ['j', 'workers'], type: 'number', describe: 'Worker threads (default: cores, at most 8)' },
        'correct-field': { type: 'string', default: 'correct', describe: 'Output field for the verdict (bool, or array for array responses)' },
        'extracted-field': { type: 'string', default: 'extracted', describe: 'Output field for the extracted answer (null when none)' },
        labels: { type: 'string', describe: 'Compare with stored labels in this field (bool or 0/1, or arrays): print agreement' },
        disagreements: { type: 'string', describe: 'With --labels: write every disagreement as JSONL to FILE' },
        report: { alias: 'summary', type: 'string', requiresArg: true, describe: 'Write the summary (counts, accuracy, agreement, grades/s) as JSON to FILE' },
      })
      .example('$0 grade preds.jsonl -o graded.jsonl', 'Add "extracted" and "correct" to each record')
      .example('$0 grade --response-field code --gold-field answer --labels score qwen.jsonl > /dev/null', 'Agreement with another grader\'s labels')
      .example('$0 grade --extract answer-tag --gold-field ground_truth r1.jsonl | jq .correct', 'R1-zero <answer> format')
      .example('$0 grade --extract deepseek --task math --response-field code --gold-field answer qwen.jsonl', 'DeepSeek-Math\'s extraction, for numbers comparable to the paper')
      .check((a) => {
        number(a.timeout, '--timeout', { above: 0 });
        optionalInteger(a.jobs, '--jobs', 1);
        if (a.disagreements && !a.labels) throw new UsageError('--disagreements needs --labels');
        return true;
      }),
  handler: async (argv) => {
    const { runGrade } = await import('./run.js');
    await runGrade({
      inputs: inputList(argv.inputs),
      output: argv.output as string | undefined,
      skipInvalid: Boolean(argv['skip-invalid']),
      responseField: argv['response-field'] as string | undefined,
      goldField: argv['gold-field'] as string | undefined,
      extract: argv.extract as (typeof GRADE_EXTRACT)[number],
      task: argv.task as 'math',
      questionField: argv['question-field'] as string | undefined,
      ordered: Boolean(argv.ordered),
      goldExtract: argv['gold-extract'] as 'auto' | (typeof GRADE_EXTRACT)[number],
      symbolic: Boolean(argv.symbolic),
      cas: argv.cas as 'ce' | 'mathjs',
      timeoutMs: (argv.timeout as number) * 1000,
      workers: argv.workers as number | undefined,
      correctField: argv['correct-field'] as string,
      extractedField: argv['extracted-field'] as string,
      labels: argv.labels as string | undefined,
      disagreements: argv.disagreements as string | undefined,
      summary: argv.summary as string | undefined,
    });
  },
};

export default command;
