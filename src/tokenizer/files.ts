// On-disk tokenizer: a directory (also part of every checkpoint directory) holding
//   tokenizer.tiktoken     ranks in tiktoken's own format: one "base64(token bytes) rank" per line, ranks 0..N-1;
//                          Python: tiktoken.load.load_tiktoken_bpe(path); JS: new Tiktoken(text, specials, pat)
//   tiktoken_config.json   { format, version, name, pat_str, n_vocab, special_tokens {text: id},
//                            bos_token, eos_token, pad_token, chat_tokens {system, user, assistant, end_of_turn} }
// Not named tokenizer.json on purpose: Hugging Face reads that name as its own (different) format.
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import { writeOutputFile } from '../cli/output-file.js';
import { join } from 'node:path';
import { DataError } from '../cli/errors.js';

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

/** `ranks` is the text of tokenizer.tiktoken (see formatRanks). */
export function writeTokenizerDir(dir: string, ranks: string, config: TokenizerConfig): void {
  mkdirSync(dir, { recursive: true });
  writeOutputFile(join(dir, RANKS_FILE), ranks);
  writeOutputFile(join(dir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}

export function readTokenizerDir(dir: string): { ranks: string; config: TokenizerConfig } {
  const cfgPath = join(dir, CONFIG_FILE);
  let config: TokenizerConfig;
  try {
    config = JSON.parse(readFileSync(cfgPath, 'utf8')) as TokenizerConfig;
  } catch (e) {
    throw new DataError(cfgPath, `cannot read tokenizer config: ${(e as Error).message}`);
  }
  if (config.format !== CONFIG_FORMAT) throw new DataError(cfgPath, `not a ${CONFIG_FORMAT} config (format ${JSON.stringify(config.format)})`);
  for (const k of ['pat_str', 'bos_token', 'eos_token', 'pad_token'] as const) {
    if (typeof config[k] !== 'string') throw new DataError(cfgPath, `"${k}" must be a string`);
  }
  if (!Number.isInteger(config.n_vocab) || config.n_vocab <= 0) throw new DataError(cfgPath, '"n_vocab" must be a positive integer');
  if (typeof config.special_tokens !== 'object' || config.special_tokens === null) throw new DataError(cfgPath, '"special_tokens" must be an object');
  for (const k of [config.bos_token, config.eos_token, config.pad_token]) {
    if (!(k in config.special_tokens)) throw new DataError(cfgPath, `special token ${JSON.stringify(k)} has no id in "special_tokens"`);
  }
  const ranksPath = join(dir, RANKS_FILE);
  let ranks: string;
  try {
    ranks = readFileSync(ranksPath, 'utf8');
  } catch (e) {
    throw new DataError(ranksPath, `cannot read ranks: ${(e as Error).message}`);
  }
  return { ranks, config };
}
