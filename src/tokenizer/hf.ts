// Hugging Face's form of a tiktoken tokenizer: tokenizer.json (read by the `tokenizers` library that
// transformers' AutoTokenizer, vLLM and tokenizers.js use) and tokenizer_config.json (the transformers class,
// bos/eos/pad, the chat template). The conversion is the one transformers' TikTokenConverter makes, so a
// mathpipe checkpoint tokenizes in Hugging Face tools as it does here:
//   - a byte-level BPE whose vocabulary spells every token in GPT-2's byte-to-unicode alphabet;
//   - merges derived from the ranks: for each token, every split into two pieces that are both tokens, ordered
//     by the pieces' ranks, and all merges ordered by the merged token's rank. BPE then always makes the merge
//     whose result has the lowest rank, which is what tiktoken does;
//   - ignore_merges, so a whole pre-token that is a token is used as is (tiktoken looks it up first too, and
//     a token need not be reachable by merges);
//   - pre-tokenisation by the tiktoken pattern (Split, isolated), then bytes to the byte-level alphabet;
//   - every special token an added token, special: true.
// tiktoken and BPE could still part in one case: two different splits of one token present at once in a
// pre-token (parts x+y and y+z both spelling T, as "ab"+"a" and "a"+"ba"): tiktoken merges the leftmost, BPE the
// split listed first. Measured: no difference in 4.7M tokens (synthetic math text and random strings) for
// cl100k_base and a trained 8000-token BPE; test/tokenizer/hf.test.ts checks a smaller set on every run.
// The split pattern runs in three regex engines (fancy-regex in tiktoken, Oniguruma in the Rust `tokenizers`,
// JS RegExp in tokenizers.js); the test covers the last one.
import { chatTemplate } from './chat-template.js';
import type { TokenizerConfig } from './files.js';

export const HF_TOKENIZER_FILE = 'tokenizer.json';
export const HF_CONFIG_FILE = 'tokenizer_config.json';

/** GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to U+0100 on, in byte order. */
function byteAlphabet(): string[] {
  const table: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : next++);
  }
  return table;
}

const ALPHABET = byteAlphabet();

function spell(bytes: string): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += ALPHABET[bytes.charCodeAt(i)];
  return s;
}

/**
 * Vocabulary and merges of the ranks. `ranks` maps token bytes (as a latin1 string, one char per byte) to rank.
 * Merges are "left right" strings (no byte-level symbol is a space), the form every `tokenizers` version reads.
 */
export function vocabAndMerges(ranks: Map<string, number>): { vocab: Record<string, number>; merges: string[] } {
  const vocab: Record<string, number> = {};
  const found: { rank: number; left: number; right: number; text: string }[] = [];
  for (const [token, rank] of ranks) {
    vocab[spell(token)] = rank;
    for (let i = 1; i < token.length; i++) {
      const left = ranks.get(token.slice(0, i));
      const right = ranks.get(token.slice(i));
      if (left !== undefined && right !== undefined) found.push({ rank, left, right, text: `${spell(token.slice(0, i))} ${spell(token.slice(i))}` });
    }
  }
  found.sort((a, b) => a.rank - b.rank || a.left - b.left || a.right - b.right);
  return { vocab, merges: found.map((m) => m.text) };
}

function addedToken(content: string) {
  return { content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** The tokenizer.json object for ranks + config. */
export function hfTokenizerJson(ranks: Map<string, number>, config: TokenizerConfig): object {
  const { vocab, merges } = vocabAndMerges(ranks);
  const specials = Object.entries(config.special_tokens).sort((a, b) => a[1] - b[1]);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(([content, id]) => ({ id, ...addedToken(content) })),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: config.pat_str }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab,
      merges,
    },
  };
}

/** The tokenizer_config.json object (a checkpoint adds model_max_length: files.ts setModelMaxLength). */
export function hfTokenizerConfig(config: TokenizerConfig): Record<string, unknown> {
  const decoder: Record<string, object> = {};
  for (const [content, id] of Object.entries(config.special_tokens).sort((a, b) => a[1] - b[1])) decoder[String(id)] = addedToken(content);
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: config.bos_token,
    eos_token: config.eos_token,
    pad_token: config.pad_token,
    // transformers' default (true in older versions) edits spaces before punctuation on decode: not a round trip.
    clean_up_tokenization_spaces: false,
    model_input_names: ['input_ids', 'attention_mask'],
    added_tokens_decoder: decoder,
    ...(config.chat_tokens ? { chat_template: chatTemplate(config.chat_tokens) } : {}),
  };
}
