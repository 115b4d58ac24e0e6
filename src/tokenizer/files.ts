// On-disk tokenizer: a directory (also part of every checkpoint directory) holding
//   tokenizer.tiktoken     ranks in tiktoken's own format: one "base64(token bytes) rank" per line, ranks 0..N-1;
//                          Python: tiktoken.load.load_tiktoken_bpe(path); JS: new Tiktoken(text, specials, pat)
//   tiktoken_config.json   { format, version, name, pat_str, n_vocab, special_tokens {text: id},
//                            bos_token, eos_token, pad_token, chat_tokens {system, user, assistant, end_of_turn} }
// Not named tokenizer.json on purpose: Hugging Face reads that name as its own (different) format. Every write
// adds Hugging Face's files made from these two (src/tokenizer/hf.ts):
//   tokenizer.json, tokenizer_config.json   byte-level BPE + chat template, for transformers, vLLM, tokenizers.js
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import { writeOutputFile } from '../cli/output-file.js';
import { join } from 'node:path';
import { DataError } from '../cli/errors.js';
import { HF_CONFIG_FILE, HF_TOKENIZER_FILE, hfTokenizerConfig, hfTokenizerJson } from './hf.js';

export const RANKS_FILE = 'tokenizer.tiktoken';
export const CONFIG_FILE = 'tiktoken_config.json';
export const CONFIG_FORMAT = 'mathpipe-tiktoken';

export interface ChatTokens {
  system: string;
  user: string;
  assistant: string;
  end_of_turn: string;
}

export interface TokenizerConfig {
  format: typeof CONFIG_FORMAT;
  version: 1;
  name: string;
  pat_str: string;
  n_vocab: number;
  special_tokens: Record<string, number>;
  bos_token: string;
  eos_token: string;
  pad_token: string;
  chat_tokens?: ChatTokens;
}

export function isTokenizerDir(dir: string): boolean {
  return existsSync(join(dir, CONFIG_FILE)) && existsSync(join(dir, RANKS_FILE));
}

/** Ranks as tiktoken's text format; `tokens[r]` are the bytes of rank r. */
export function formatRanks(tokens: Uint8Array[]): string {
  const parts: string[] = new Array(tokens.length);
  for (let r = 0; r < tokens.length; r++) parts[r] = `${Buffer.from(tokens[r]).toString('base64')} ${r}\n`;
  return parts.join('');
}

/** Token bytes (a latin1 string, one char per byte) to rank, from the text of tokenizer.tiktoken. */
export function parseRanks(text: string, where: string): Map<string, number> {
  const ranks = new Map<string, number>();
  let line = 0;
  for (const l of text.split('\n')) {
    line++;
    if (!l) continue;
    const m = /^([A-Za-z0-9+/]*={0,2}) (\d+)$/.exec(l);
    if (!m) throw new DataError(`${where}:${line}`, 'not a "base64 rank" line');
    ranks.set(Buffer.from(m[1], 'base64').toString('latin1'), Number(m[2]));
  }
  return ranks;
}

/** Every file of a tokenizer directory, name and text; `ranks` is the text of tokenizer.tiktoken (see formatRanks). */
export function renderTokenizerDir(ranks: string, config: TokenizerConfig): [string, string][] {
  const hf = hfTokenizerJson(parseRanks(ranks, RANKS_FILE), config);
  return [
    [RANKS_FILE, ranks],
    [CONFIG_FILE, JSON.stringify(config, null, 2) + '\n'],
    // Compact: cl100k's merges would make an indented file several times larger.
    [HF_TOKENIZER_FILE, JSON.stringify(hf) + '\n'],
    [HF_CONFIG_FILE, JSON.stringify(hfTokenizerConfig(config), null, 2) + '\n'],
  ];
}

export function writeRendered(dir: string, files: [string, string][]): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) writeOutputFile(join(dir, name), text);
}

/** `ranks` is the text of tokenizer.tiktoken (see formatRanks). */
export function writeTokenizerDir(dir: string, ranks: string, config: TokenizerConfig): void {
  writeRendered(dir, renderTokenizerDir(ranks, config));
}

/**
 * Record the model's context length in a written tokenizer_config.json: known to a checkpoint, not to a
 * tokenizer (transformers otherwise assumes an unbounded length and never warns of overlong input).
 */
export function setModelMaxLength(dir: string, n: number): void {
  const path = join(dir, HF_CONFIG_FILE);
  if (!existsSync(path)) return;
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  writeOutputFile(path, JSON.stringify({ ...cfg, model_max_length: n }, null, 2) + '\n');
}

export function readTokenizerConfig(dir: string): TokenizerConfig {
  const cfgPath = join(dir, CONFIG_FILE);
  let config: TokenizerConfig;
  try {
    config = JSON.parse(readFileSync(cfgPath, 'utf8')) as TokenizerConfig;
  } catch (e) {
    throw new DataError(cfgPath, `cannot read tokenizer config: ${(e as Error).message}`);
  }
  if (typeof config !== 'object' || config === null) throw new DataError(cfgPath, 'tokenizer config is not a JSON object');
  if (config.format !== CONFIG_FORMAT) throw new DataError(cfgPath, `not a ${CONFIG_FORMAT} config (format ${JSON.stringify(config.format)})`);
  for (const k of ['pat_str', 'bos_token', 'eos_token', 'pad_token'] as const) {
    if (typeof config[k] !== 'string') throw new DataError(cfgPath, `"${k}" must be a string`);
  }
  if (!Number.isInteger(config.n_vocab) || config.n_vocab <= 0) throw new DataError(cfgPath, '"n_vocab" must be a positive integer');
  if (typeof config.special_tokens !== 'object' || config.special_tokens === null) throw new DataError(cfgPath, '"special_tokens" must be an object');
  for (const k of [config.bos_token, config.eos_token, config.pad_token]) {
    if (!(k in config.special_tokens)) throw new DataError(cfgPath, `special token ${JSON.stringify(k)} has no id in "special_tokens"`);
  }
  return config;
}

export function readTokenizerDir(dir: string): { ranks: string; config: TokenizerConfig } {
  const config = readTokenizerConfig(dir);
  const ranksPath = join(dir, RANKS_FILE);
  let ranks: string;
  try {
    ranks = readFileSync(ranksPath, 'utf8');
  } catch (e) {
    throw new DataError(ranksPath, `cannot read ranks: ${(e as Error).message}`);
  }
  return { ranks, config };
}
