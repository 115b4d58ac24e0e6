// `mathpipe sample`: completions for JSONL prompts from a local checkpoint (KV cache, continuous batching).
import type { CommandModule, Argv } from 'yargs';
import { UsageError } from '../cli/errors.js';
import { inputs, inputList, integer, output, seed } from '../cli/options.js';
import { checkParams, type SamplingParams } from './sampling.js';

const numbers = (v: unknown): number[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(Number);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);

function params(a: Record<string, unknown>): SamplingParams {
  return {
    temperature: a.temperature as number,
    topP: a['top-p'] as number,
    topK: a['top-k'] as number,
    minP: a['min-p'] as number,
    maxTokens: a['max-tokens'] as number,
    stop: strings(a.stop),
    stopTokenIds: numbers(a['stop-token-id']),
    ignoreEos: Boolean(a['ignore-eos']),
    n: a.n as number,
    seed: a.seed as number,
  };
}

const command: CommandModule = {
  command: 'sample [inputs..]',
  describe: 'Generate completions for JSONL prompts with a local checkpoint (KV cache, continuous batching, per-token log-probs)',
  builder: (y: Argv) =>
    inputs(y)
      .usage(
        'mathpipe sample -m CHECKPOINT_DIR [options] [inputs..]\n\n' +
          'Reads records with a "prompt" (or, with --chat, "messages"); writes, per sample, the record plus completion, tokens,\n' +
          'logprobs (the model\'s), sampling_logprobs (the distribution sampled from), finish_reason, stop_reason, prompt_index,\n' +
          'sample_index and checkpoint {path, step}: in input order, n records per prompt. A seed gives the same tokens whatever --batch-size.',
      )
      .options({
        ...output,
        model: { alias: 'm', type: 'string', requiresArg: true, describe: 'Checkpoint directory (config.json, model.safetensors, tokenizer)' },
        tokenizer: { type: 'string', requiresArg: true, describe: 'Tokenizer to use instead of the checkpoint\'s: a tokenizer directory or a tiktoken encoding name' },
        field: { type: 'string', default: 'prompt', describe: 'Field holding the prompt: a string, or an array of token ids' },
        chat: { type: 'boolean', default: false, describe: 'Render "messages" (or the prompt as one user message) with the chat template, generation prompt added' },
        'chat-template': { type: 'string', requiresArg: true, describe: 'Jinja chat template FILE (default: the checkpoint\'s tokenizer_config.json, else built in; see the man page)' },
        system: { type: 'string', requiresArg: true, describe: 'With --chat: a system message before a plain prompt' },
        bos: { type: 'boolean', default: false, describe: 'Prepend the tokenizer\'s beginning-of-text token to plain prompts' },
        n: { type: 'number', default: 1, describe: 'Samples per prompt (the prompt is prefilled once and its cache shared)' },
        temperature: { alias: 't', type: 'number', default: 1, describe: 'Softmax temperature; 0 is greedy' },
        'top-p': { type: 'number', default: 1, describe: 'Nucleus sampling: the smallest set of most likely tokens holding this mass (1: off)' },
        'top-k': { type: 'number', default: 0, describe: 'Sample among the k most likely tokens (0: off)' },
        'min-p': { type: 'number', default: 0, describe: 'Drop tokens less likely than this fraction of the most likely one (0: off)' },
        'max-tokens': { type: 'number', default: 256, describe: 'Tokens to generate at most per sample (the context may end it sooner: finish_reason "length")' },
        stop: { type: 'string', requiresArg: true, describe: 'Stop before this string (repeatable); found in the decoded text, across token boundaries' },
        'stop-token-id': { type: 'number', requiresArg: true, describe: 'Stop after this token id (repeatable); the end-of-text token always stops unless --ignore-eos' },
        'ignore-eos': { type: 'boolean', default: false, describe: 'Do not stop at end-of-text (nor, with the built-in marker template, end-of-turn)' },
        'batch-size': { alias: 'b', type: 'number', default: 32, describe: 'Sequences decoded together; a finished one\'s slot is refilled at once' },
        backend: { choices: ['auto', 'tensorflow', 'wasm', 'cpu'], describe: 'tfjs backend (default: $MATHPIPE_BACKEND or auto)' },
        ...seed,
      })
      .check((a) => {
        if (!a.model) throw new UsageError('--model (-m) CHECKPOINT_DIR is required');
        const bad = checkParams(params(a));
        if (bad.length) throw new UsageError(bad.map((b) => `--${b}`).join('; '));
        integer(a['batch-size'], '--batch-size', 1);
        if (a['chat-template'] && !a.chat) throw new UsageError('--chat-template needs --chat');
        if (a.system !== undefined && !a.chat) throw new UsageError('--system needs --chat');
        return true;
      })
      .example('$0 sample -m ckpt -n 4 --max-tokens 128 --seed 1 prompts.jsonl -o samples.jsonl', '4 samples per prompt at temperature 1')
      .example('$0 sample -m ckpt -t 0 --stop "\\n\\nQ:" gsm8k-prompts.jsonl', 'Greedy, cut before the next few-shot question')
      .example('echo \'{"messages":[{"role":"user","content":"What is 2+3?"}]}\' | $0 sample -m ckpt --chat -t 0.7 --top-p 0.95', 'Chat with the checkpoint\'s template')
      .example('$0 sample -m ckpt -t 0 --field question -b 64 test.jsonl | jq -r .completion', 'Prompts in another field, 64 sequences at a time'),
  handler: async (argv) => {
    const { runSample } = await import('./run.js');
    await runSample({
      inputs: inputList(argv.inputs),
      output: argv.output as string | undefined,
      model: argv.model as string,
      tokenizer: argv.tokenizer as string | undefined,
      field: argv.field as string,
      chat: Boolean(argv.chat),
      chatTemplate: argv['chat-template'] as string | undefined,
      system: argv.system as string | undefined,
      bos: Boolean(argv.bos),
      batchSize: argv['batch-size'] as number,
      backend: argv.backend as string | undefined,
      params: params(argv),
    });
  },
};

export default command;
