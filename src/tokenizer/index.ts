// The one tokenizer interface of mathpipe: `tokenize` writes datasets with it, and the training core,
// sampling and eval read checkpoints with it. Encoding is tiktoken's (Rust BPE compiled to wasm) for
// both the built-in encodings and the BPEs that `tokenize train` writes.
import { Tiktoken, get_encoding, type TiktokenEncoding } from 'tiktoken';
import { join, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DataError, UsageError } from '../cli/errors.js';
import { readTokenizerDir, renderTokenizerDir, writeRendered, isTokenizerDir, CONFIG_FORMAT, RANKS_FILE, type ChatTokens, type TokenizerConfig } from './files.js';
import { chatTemplate } from './chat-template.js';

export { MATH_PATTERN, compilePattern, preTokens } from './pattern.js';
export { RANKS_FILE, CONFIG_FILE, isTokenizerDir, type TokenizerConfig, type ChatTokens } from './files.js';
export { HF_TOKENIZER_FILE, HF_CONFIG_FILE } from './hf.js';
export { chatTemplate } from './chat-template.js';

export const BUILTIN_ENCODINGS = ['cl100k_base', 'o200k_base', 'p50k_base', 'p50k_edit', 'r50k_base', 'gpt2'] as const;
export type BuiltinEncoding = (typeof BUILTIN_ENCODINGS)[number];

// tiktoken's registry (node_modules/tiktoken/registry.json), so ids and patterns match OpenAI's exactly.
const registry = createRequire(import.meta.url)('tiktoken/registry.json') as Record<
  string,
  { special_tokens: Record<string, number>; pat_str: string; explicit_n_vocab?: number }
>;

export interface EncodeOptions {
  /** Turn special-token text ("<|end_of_text|>") into its id. Off by default: in documents it is just text. */
  allowSpecial?: boolean;
}

export interface Tokenizer {
  /** What was passed to loadTokenizer (a built-in name or an absolute directory): enough to load it again, e.g. in a worker. */
  readonly spec: string;
  readonly name: string;
  readonly patStr: string;
  /** Embedding rows a model needs: 1 + the largest id (ranks and special tokens). */
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  readonly specialTokens: Readonly<Record<string, number>>;
  /** Chat markers (trained tokenizers only). */
  readonly chat?: Readonly<Record<keyof ChatTokens, number>>;
  /** The Jinja chat template over those markers (the one saved in tokenizer_config.json); absent without them. */
  readonly chatTemplate?: string;
  encode(text: string, opts?: EncodeOptions): number[];
  /** Same as encode, without copying into a JS array (the fast path for bulk tokenisation). */
  encodeArray(text: string, opts?: EncodeOptions): Uint32Array;
  /** Text of the ids; bytes that do not form valid UTF-8 (a partial character) become U+FFFD. */
  decode(ids: ArrayLike<number>): string;
  decodeBytes(ids: ArrayLike<number>): Uint8Array;
  /** Bytes of one token; RangeError for an id outside the vocabulary. */
  tokenBytes(id: number): Uint8Array;
  isSpecial(id: number): boolean;
  /**
   * Write tokenizer.tiktoken + tiktoken_config.json into dir (e.g. a checkpoint), for any tokenizer, and
   * Hugging Face's tokenizer.json + tokenizer_config.json beside them.
   */
  save(dir: string): void;
  /** Release the wasm memory; the tokenizer is unusable afterwards. */
  free(): void;
}

interface Names {
  bos: string;
  eos: string;
  pad: string;
  chat?: ChatTokens;
}

const lenient = new TextDecoder('utf-8');

class TiktokenTokenizer implements Tokenizer {
  private table: (Uint8Array | undefined)[] | null = null;
  private built: Tiktoken | null = null;
  private readonly specialIds: Set<number>;
  /** The files of a save, rendered once: a run saves a checkpoint many times, and cl100k's merges take a while. */
  private rendered: [string, string][] | null = null;
  readonly chatTemplate?: string;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  readonly chat?: Record<keyof ChatTokens, number>;

  constructor(
    /** Building the encoder parses every rank (~0.3 s for cl100k): done on first use, so a process that
     * only needs the vocabulary size or special ids (the main thread of a multi-threaded run) never pays. */
    private readonly build: () => Tiktoken,
    readonly spec: string,
    readonly name: string,
    readonly patStr: string,
    readonly vocabSize: number,
    readonly specialTokens: Record<string, number>,
    private readonly names: Names,
  ) {
    this.specialIds = new Set(Object.values(specialTokens));
    this.bos = specialTokens[names.bos];
    this.eos = specialTokens[names.eos];
    this.pad = specialTokens[names.pad];
    const c = names.chat;
    if (c) {
      this.chat = { system: specialTokens[c.system], user: specialTokens[c.user], assistant: specialTokens[c.assistant], end_of_turn: specialTokens[c.end_of_turn] };
      this.chatTemplate = chatTemplate(c);
    }
  }

  private get enc(): Tiktoken {
    return (this.built ??= this.build());
  }

  encodeArray(text: string, opts?: EncodeOptions): Uint32Array {
    return opts?.allowSpecial ? this.enc.encode(text, 'all') : this.enc.encode_ordinary(text);
  }

  encode(text: string, opts?: EncodeOptions): number[] {
    return Array.from(this.encodeArray(text, opts));
  }

  /**
   * Token bytes, built on first use. Decoding goes through this table rather than tiktoken's decode,
   * because tiktoken's wasm aborts ("unreachable") on an unknown id instead of reporting it, and a failed
   * lookup leaves the wasm object borrowed for good; so the table is built only from known tokens.
   */
  private bytesTable(): (Uint8Array | undefined)[] {
    if (this.table) return this.table;
    const t: (Uint8Array | undefined)[] = new Array(this.vocabSize).fill(undefined);
    for (const bytes of this.enc.token_byte_values()) {
      const b = Uint8Array.from(bytes);
      t[this.enc.encode_single_token(b)] = b;
    }
    for (const [text, id] of Object.entries(this.specialTokens)) t[id] = Buffer.from(text, 'utf8');
    return (this.table = t);
  }

  tokenBytes(id: number): Uint8Array {
    const b = Number.isInteger(id) && id >= 0 ? this.bytesTable()[id] : undefined;
    if (!b) throw new RangeError(`token id ${id} is not in the vocabulary of ${this.name}`);
    return b;
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    let n = 0;
    for (let i = 0; i < ids.length; i++) n += this.tokenBytes(ids[i]).length;
    const out = new Uint8Array(n);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.tokenBytes(ids[i]);
      out.set(b, o);
      o += b.length;
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    return lenient.decode(this.decodeBytes(ids));
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  save(dir: string): void {
    writeRendered(dir, (this.rendered ??= this.render()));
  }

  private render(): [string, string][] {
    const table = this.bytesTable();
    const lines: string[] = [];
    for (let id = 0; id < this.vocabSize; id++) {
      const b = table[id];
      if (b && !this.specialIds.has(id)) lines.push(`${Buffer.from(b).toString('base64')} ${id}\n`);
    }
    const config: TokenizerConfig = {
      format: CONFIG_FORMAT,
      version: 1,
      name: this.name,
      pat_str: this.patStr,
      n_vocab: this.vocabSize,
      special_tokens: { ...this.specialTokens },
      bos_token: this.names.bos,
      eos_token: this.names.eos,
      pad_token: this.names.pad,
      ...(this.names.chat ? { chat_tokens: this.names.chat } : {}),
    };
    return renderTokenizerDir(lines.join(''), config);
  }

  free(): void {
    this.built?.free();
    this.built = null;
    this.table = null;
  }
}

function loadBuiltin(name: BuiltinEncoding): Tokenizer {
  const entry = registry[name];
  const specials = entry.special_tokens;
  // p50k_base has ordinary ranks above its only special token, so the registry's explicit size counts too.
  const vocabSize = Math.max(entry.explicit_n_vocab ?? 0, ...Object.values(specials).map((id) => id + 1));
  // GPT-style encodings have one document separator; it serves as BOS, EOS and padding.
  const sep = '<|endoftext|>';
  return new TiktokenTokenizer(() => get_encoding(name as TiktokenEncoding), name, name, entry.pat_str, vocabSize, specials, { bos: sep, eos: sep, pad: sep });
}

function loadDir(dir: string): Tokenizer {
  const { ranks, config } = readTokenizerDir(dir);
  const build = () => {
    try {
      return new Tiktoken(ranks, config.special_tokens, config.pat_str);
    } catch (e) {
      throw new DataError(join(dir, RANKS_FILE), `tiktoken cannot load these ranks and pattern: ${String(e)}`);
    }
  };
  return new TiktokenTokenizer(build, dir, config.name, config.pat_str, config.n_vocab, config.special_tokens, {
    bos: config.bos_token,
    eos: config.eos_token,
    pad: config.pad_token,
    chat: config.chat_tokens,
  });
}

/** A built-in tiktoken encoding by name, or a tokenizer directory (from `tokenize train`, or a checkpoint). */
export function loadTokenizer(nameOrDir: string): Tokenizer {
  if ((BUILTIN_ENCODINGS as readonly string[]).includes(nameOrDir)) return loadBuiltin(nameOrDir as BuiltinEncoding);
  const dir = resolve(nameOrDir);
  if (existsSync(dir) && statSync(dir).isDirectory() && isTokenizerDir(dir)) return loadDir(dir);
  throw new UsageError(
    `unknown tokenizer "${nameOrDir}": use a built-in encoding (${BUILTIN_ENCODINGS.join(', ')}) ` +
      'or a directory holding tokenizer.tiktoken and tiktoken_config.json (made by `mathpipe tokenize train`)',
  );
}
