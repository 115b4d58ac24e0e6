// `mathpipe tokenize train`: count pre-tokens over the corpus (one pass, memory bounded by the number
// of distinct pre-tokens, not the corpus size), learn a byte-level BPE on the counts, and write a
// tiktoken-format tokenizer directory with special tokens for documents and chat.
import { Tiktoken } from 'tiktoken';
import { DataError, IoError, UsageError, inputsWhere } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { startProgress } from '../cli/progress.js';
import { totalSize } from '../jsonl/input.js';
import { MATH_PATTERN, compilePattern } from '../tokenizer/index.js';
import { formatRanks, writeTokenizerDir, CONFIG_FORMAT, type TokenizerConfig, type ChatTokens } from '../tokenizer/files.js';
import { trainBpe } from './bpe.js';
import { chunkPool, mapChunks } from './pool.js';
import { lineChunks, type Chunk } from './chunks.js';
import { ChunkLines } from './records.js';
import { PreTokenCounter, type CountResult } from './count-chunk.js';

export const STANDARD_SPECIALS = {
  bos: '<|begin_of_text|>',
  eos: '<|end_of_text|>',
  pad: '<|pad|>',
} as const;

export const CHAT_SPECIALS: ChatTokens = {
  system: '<|system|>',
  user: '<|user|>',
  assistant: '<|assistant|>',
  end_of_turn: '<|end_of_turn|>',
};

export interface TrainArgs {
  inputs: string[];
  output: string;
  vocabSize: number;
  pattern: string;
  textField: string;
  minFrequency: number;
  maxBytes: number;
  special: string[];
  name: string;
  skipInvalid: boolean;
  workers: number;
}

export function resolvePattern(p: string): string {
  return p === 'math' ? MATH_PATTERN : p;
}

/** The pattern must run in both engines: RegExp here (counting) and fancy-regex in tiktoken (encoding). */
function checkPattern(pat: string): void {
  try {
    compilePattern(pat);
  } catch (e) {
    throw new UsageError(`--pattern is not a valid JavaScript regular expression: ${(e as Error).message}`);
  }
  try {
    new Tiktoken('AA== 0\n', {}, pat).free();
  } catch (e) {
    throw new UsageError(`--pattern is not accepted by tiktoken's regex engine: ${String(e)}`);
  }
}

/** Pre-token counts of the corpus, counted on worker threads (each keeps its own map; merged at the end). */
async function countPreTokens(a: TrainArgs, pattern: string) {
  const options = { textField: a.textField, skipInvalid: a.skipInvalid };
  const pool = chunkPool<CountResult>(a.workers, new URL('./count-worker.js', import.meta.url), { pattern, options }, () => {
    const c = new PreTokenCounter(pattern, options);
    return { run: (t) => c.add(t.bytes, t.first), finish: () => c.counts };
  });
  const progressCounts = { records: 0, bytes: 0 };
  const progress = startProgress('tokenize train: counting', () => progressCounts, totalSize(a.inputs));
  let documents = 0;
  let textBytes = 0;
  let skipped = 0;
  const lines = new ChunkLines();
  let counts: Map<string, number>;
  try {
    for await (const { file, res } of mapChunks(pool, limitBytes(lineChunks(a.inputs, 1 << 20, (n) => (progressCounts.bytes += n)), a.maxBytes))) {
      lines.check(file, res);
      documents += res.documents;
      textBytes += res.textBytes;
      skipped += res.skipped;
      progressCounts.records = documents;
    }
    const maps = (await pool.finish()) as Map<string, number>[];
    counts = maps.reduce((acc, m) => {
      if (acc !== m) for (const [k, v] of m) acc.set(k, (acc.get(k) ?? 0) + v);
      return acc;
    });
  } finally {
    progress.stop();
    await pool.close();
  }
  if (skipped) warn(`skipped ${skipped} invalid line${skipped === 1 ? '' : 's'} (--skip-invalid)`);
  return { counts, documents, textBytes };
}

/** Stop after the chunk that reaches `max` input bytes: a deterministic cut whatever the thread count. */
async function* limitBytes(chunks: AsyncIterable<Chunk>, max: number): AsyncGenerator<Chunk> {
  let n = 0;
  for await (const c of chunks) {
    yield c;
    n += c.bytes.length;
    if (n >= max) return;
  }
}

export async function run(a: TrainArgs): Promise<void> {
  const t0 = performance.now();
  const pat = resolvePattern(a.pattern);
  checkPattern(pat);
  const specials = [STANDARD_SPECIALS.bos, STANDARD_SPECIALS.eos, STANDARD_SPECIALS.pad, CHAT_SPECIALS.system, CHAT_SPECIALS.user, CHAT_SPECIALS.assistant, CHAT_SPECIALS.end_of_turn];
  for (const s of a.special) if (!specials.includes(s)) specials.push(s);
  const ranks = a.vocabSize - specials.length;
  if (ranks < 256) throw new UsageError(`--vocab-size must be at least ${256 + specials.length} (256 bytes + ${specials.length} special tokens)`);

  const { counts, documents, textBytes } = await countPreTokens(a, pat);
  if (documents === 0) throw new DataError(inputsWhere(a.inputs), 'no documents to train on');
  const t1 = performance.now();
  const progress = startProgress('tokenize train: merging', () => ({ records: made, bytes: 0 }));
  let made = 256;
  const bpe = trainBpe(counts, { ranks, minFrequency: a.minFrequency, onMerge: (m) => (made = m) });
  progress.stop();
  const distinct = counts.size;
  counts.clear();
  if (bpe.exhausted) warn(`only ${bpe.tokens.length} ordinary tokens: no pair left that occurs ${a.minFrequency}+ times (more text or a lower --min-frequency gives more)`);

  const specialTokens: Record<string, number> = {};
  specials.forEach((s, i) => (specialTokens[s] = bpe.tokens.length + i));
  const config: TokenizerConfig = {
    format: CONFIG_FORMAT,
    version: 1,
    name: a.name,
    pat_str: pat,
    n_vocab: bpe.tokens.length + specials.length,
    special_tokens: specialTokens,
    bos_token: STANDARD_SPECIALS.bos,
    eos_token: STANDARD_SPECIALS.eos,
    pad_token: STANDARD_SPECIALS.pad,
    chat_tokens: CHAT_SPECIALS,
  };
  try {
    writeTokenizerDir(a.output, formatRanks(bpe.tokens), config);
  } catch (e) {
    throw new IoError(`cannot write the tokenizer to ${a.output}: ${(e as Error).message}`);
  }
  const t2 = performance.now();
  info(
    `${documents} documents, ${(textBytes / 1e6).toFixed(1)} MB, ${distinct} distinct pre-tokens; ` +
      `vocabulary ${config.n_vocab} (${bpe.tokens.length - 256} merges + 256 bytes + ${specials.length} special) -> ${a.output}; ` +
      `${(bpe.corpusBytes / bpe.corpusTokens).toFixed(2)} bytes/token on the training text; ` +
      `count ${((t1 - t0) / 1000).toFixed(1)} s, merge ${((t2 - t1) / 1000).toFixed(1)} s`,
  );
}
