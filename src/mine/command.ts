// `mathpipe mine`: option definitions only; the work is imported lazily from run.ts.
import type { Argv, CommandModule } from 'yargs';
import { byteSize, number, output, workerCount } from '../cli/options.js';
import { dedupCommand } from './dedup-command.js';
import { selectCommand } from './select-command.js';
import { domainsCommand, expandCommand } from './domains-command.js';
import { iterateCommand } from './iterate-command.js';

const CC = 'https://data.commoncrawl.org/';

const extract: CommandModule = {
  command: '$0 [inputs..]',
  describe: 'Extract documents that keep their math (LaTeX) from WARC/WET files, URLs or Common Crawl path lists',
  builder: (y) =>
    y
      .positional('inputs', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'WARC/WET files (.warc, .warc.gz, .wet.gz), http(s) URLs, or *.paths(.gz) lists; "-" or none reads stdin',
      })
      .options({
        ...output,
        prefilter: {
          choices: ['math', 'none'] as const,
          default: 'none' as const,
          describe: 'math: skip pages without math markup, LaTeX or math vocabulary before extraction (counted)',
        },
        'min-chars': { type: 'number', default: 1, describe: 'Drop documents whose text is shorter than this (counted as empty)' },
        'keep-going': {
          type: 'boolean',
          default: false,
          describe: 'Skip bad records (truncated, clipped, malformed) and unreadable inputs, count them, and go on',
        },
        errors: { type: 'string', requiresArg: true, describe: 'With --keep-going: write each skipped bad record (file, offset, id, error) as JSONL to FILE' },
        'max-record-size': {
          type: 'string',
          default: '50M',
          requiresArg: true,
          describe: 'Largest record, decompressed (gzip member, WARC block, HTTP body after Content-Encoding): a larger one is a bad record. Suffixes K, M, G',
        },
        'base-url': { type: 'string', default: CC, requiresArg: true, describe: 'Base URL (or local directory) for relative paths in *.paths lists and --cc-index' },
        range: { type: 'string', requiresArg: true, describe: 'Read only bytes OFFSET:LENGTH of the single input (one record, as in the CC index)' },
        'cc-index': { type: 'string', requiresArg: true, describe: 'JSONL from the CC index (filename, offset, length): fetch each record by byte range' },
        jobs: { alias: 'j', type: 'number', requiresArg: true, describe: 'Inputs read concurrently, at most 4x cores [default: 1 for local files, 4 with URLs]' },
        threads: {
          alias: 't',
          type: 'number',
          requiresArg: true,
          describe: 'Extraction threads (1: extract on the main thread), at most 4x cores [default: CPU count, at most 8]',
        },
        resume: { type: 'boolean', default: false, describe: 'Keep per-input parts and done markers in FILE.mine-state/; a re-run skips finished inputs' },
        retries: { type: 'number', default: 6, describe: 'HTTP retries on 5xx, 429, timeouts and resets' },
        'retry-base-ms': { type: 'number', default: 500, describe: 'First retry delay; doubles each retry, with jitter' },
        'retry-max-ms': { type: 'number', default: 30000, describe: 'Longest delay between retries (Retry-After may ask for longer)' },
        timeout: { type: 'number', default: 60, describe: 'Seconds to wait for response headers or for the next body bytes' },
      })
      .check((a) => {
        for (const k of ['min-chars', 'retries', 'retry-base-ms', 'retry-max-ms'] as const) number(a[k], `--${k}`, { min: 0 });
        byteSize(a['max-record-size'], '--max-record-size');
        number(a.timeout, '--timeout', { above: 0 });
        return true;
      })
      .example('mathpipe mine CC-MAIN-*.warc.gz -o docs.jsonl', 'Local WARC files to document JSONL')
      .example('mathpipe mine --prefilter math --keep-going crawl.warc.gz | head', 'Only pages that may hold math; skip bad records')
      .example('mathpipe mine https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-22/warc.paths.gz -j 8 --resume -o math.jsonl.gz', 'A whole crawl over HTTP, resumable')
      .example('mathpipe mine --range 1234:5678 https://data.commoncrawl.org/crawl-data/.../x.warc.gz', 'One record by byte range')
      .example('mathpipe mine --cc-index hits.jsonl', 'Records listed by a CC index query (output=json)')
      .example('mathpipe mine page.warc.wet.gz', 'WET conversion records (text only)'),
  handler: async (a) => {
    const { run } = await import('./run.js');
    const { availableParallelism } = await import('node:os');
    await run({
      inputs: (a.inputs as string[] | undefined) ?? [],
      output: a.output as string | undefined,
      keepGoing: Boolean(a['keep-going']),
      prefilter: a.prefilter as 'math' | 'none',
      minChars: a['min-chars'] as number,
      jobs: a.jobs === undefined ? undefined : workerCount(a.jobs, '--jobs'),
      resume: Boolean(a.resume),
      baseUrl: a['base-url'] as string,
      range: a.range as string | undefined,
      ccIndex: a['cc-index'] as string | undefined,
      errors: a.errors as string | undefined,
      threads: a.threads === undefined ? Math.min(8, availableParallelism()) : workerCount(a.threads, '--threads'),
      maxRecordSize: byteSize(a['max-record-size'], '--max-record-size'),
      retry: {
        retries: a.retries as number,
        baseMs: a['retry-base-ms'] as number,
        maxMs: a['retry-max-ms'] as number,
        timeoutMs: (a.timeout as number) * 1000,
      },
    });
  },
};

const command: CommandModule = {
  command: 'mine',
  describe: 'Mine math pages: extract documents from WARC/WET; dedup, select to a token budget, discover math domains, expand seeds, iterate',
  builder: (y: Argv) =>
    y
      .command(extract)
      .command(dedupCommand)
      .command(selectCommand)
      .command(domainsCommand)
      .command(expandCommand)
      .command(iterateCommand)
      .epilogue('Verbs: (none) extract documents from WARC/WET; dedup, select, domains, expand, iterate: the recall loop. See man mathpipe-mine.'),
  handler: () => {},
};

export default command;
