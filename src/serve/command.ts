// `mathpipe serve`: an OpenAI-compatible HTTP API (the subset vLLM serves) over a local checkpoint.
import type { CommandModule, Argv } from 'yargs';
import { UsageError } from '../cli/errors.js';
import { byteSize, integer, number, seed } from '../cli/options.js';

const command: CommandModule = {
  command: 'serve <checkpoint>',
  describe: 'Serve a checkpoint over an OpenAI-compatible HTTP API (completions, chat, streaming, vLLM\'s sampling parameters)',
  builder: (y: Argv) =>
    y
      .usage(
        'mathpipe serve CHECKPOINT_DIR [options]\n\n' +
          'Serves /v1/completions, /v1/chat/completions (stream: true for server-sent events), /v1/models, /tokenize,\n' +
          '/detokenize, /health and /metrics (Prometheus). Concurrent requests decode in one batch. Prints the base URL\n' +
          '(http://HOST:PORT/v1) on stdout once listening; SIGTERM or Ctrl-C stops accepting, lets requests in flight\n' +
          'finish for up to --grace seconds, cancels the rest and exits 0. See man mathpipe-serve.',
      )
      .positional('checkpoint', { type: 'string', describe: 'Checkpoint directory (config.json, model.safetensors, tokenizer)' })
      .options({
        host: { type: 'string', default: '127.0.0.1', describe: 'Address to listen on (0.0.0.0 or :: for every interface: then set an API key)' },
        port: { alias: 'p', type: 'number', default: 8000, describe: 'Port; 0 picks a free one (the URL printed on stdout says which)' },
        'api-key': { type: 'string', requiresArg: true, describe: 'Require "Authorization: Bearer KEY" on /v1/*, /tokenize and /detokenize (default: $MATHPIPE_API_KEY; unset: no key)' },
        'served-model-name': { type: 'string', array: true, requiresArg: true, describe: 'Name(s) clients give as "model" (default: CHECKPOINT as given)' },
        tokenizer: { type: 'string', requiresArg: true, describe: 'Tokenizer to use instead of the checkpoint\'s: a tokenizer directory or a tiktoken encoding name' },
        'chat-template': { type: 'string', requiresArg: true, describe: 'Jinja chat template FILE for /v1/chat/completions (default: the checkpoint\'s tokenizer_config.json, else built in)' },
        bos: { type: 'boolean', default: false, describe: 'Prepend the tokenizer\'s beginning-of-text token to text prompts of /v1/completions (a request\'s add_special_tokens overrides)' },
        'batch-size': { alias: 'b', type: 'number', default: 32, describe: 'Sequences decoded together, across all requests; more wait for a free slot' },
        'max-request-size': { type: 'string', default: '8M', describe: 'Largest request body accepted (K, M, G suffixes); larger ones get a 413' },
        grace: { type: 'number', default: 25, describe: 'Seconds requests in flight may take to finish after SIGTERM before they are cancelled' },
        log: { type: 'string', requiresArg: true, describe: 'Append one JSON line per answered request to FILE (time, method, path, status, seconds, tokens)' },
        backend: { choices: ['auto', 'tensorflow', 'wasm', 'cpu'], describe: 'tfjs backend (default: $MATHPIPE_BACKEND or auto)' },
        ...seed,
      })
      .check((a) => {
        integer(a.port, '--port', 0, 65535);
        integer(a['batch-size'], '--batch-size', 1);
        number(a.grace, '--grace', { min: 0 });
        byteSize(a['max-request-size'], '--max-request-size');
        const names = a['served-model-name'] as string[] | undefined;
        if (names && names.some((n) => !String(n))) throw new UsageError('--served-model-name must not be empty');
        if (a['api-key'] === '') throw new UsageError('--api-key must not be empty');
        return true;
      })
      .example('$0 serve ckpt', 'Serve on http://127.0.0.1:8000/v1; the model is called "ckpt"')
      .example('$0 serve ckpt --port 0 --served-model-name tiny > url.txt &', 'A free port; the base URL goes to url.txt')
      .example(
        'curl -s localhost:8000/v1/completions -H "content-type: application/json" -d \'{"model":"ckpt","prompt":"2+2=","max_tokens":8,"temperature":0}\'',
        'A greedy completion',
      )
      .example('mathpipe eval run -b gsm8k --api http://127.0.0.1:8000/v1 --model ckpt --limit 50', 'Evaluate the served checkpoint')
      .example('MATHPIPE_API_KEY=secret $0 serve ckpt --host 0.0.0.0 -b 64', 'On every interface, with a key, 64 slots'),
  handler: async (argv) => {
    const { runServe } = await import('./run.js');
    const checkpoint = String(argv.checkpoint);
    const names = (argv['served-model-name'] as string[] | undefined)?.map(String);
    await runServe({
      checkpoint,
      tokenizer: argv.tokenizer as string | undefined,
      names: names?.length ? names : [checkpoint],
      host: argv.host as string,
      port: argv.port as number,
      apiKey: (argv['api-key'] as string | undefined) ?? (process.env.MATHPIPE_API_KEY || undefined),
      batchSize: argv['batch-size'] as number,
      bos: Boolean(argv.bos),
      chatTemplate: argv['chat-template'] as string | undefined,
      maxBodyBytes: byteSize(argv['max-request-size'], '--max-request-size'),
      graceMs: (argv.grace as number) * 1000,
      backend: argv.backend as string | undefined,
      seed: argv.seed as number,
      log: argv.log as string | undefined,
    });
  },
};

export default command;
