// The Hugging Face files a tokenizer save writes (tokenizer.json, tokenizer_config.json) must tokenize as
// mathpipe does. Checked with tokenizers.js (@huggingface/tokenizers, the JS port of Hugging Face's `tokenizers`),
// for cl100k_base and for a BPE made by `tokenize train` with the math pattern.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import { runCli } from '../helpers.js';
import { loadTokenizer, type Tokenizer } from '../../src/tokenizer/index.js';
import { vocabAndMerges } from '../../src/tokenizer/hf.js';
import { corpus } from '../../fixtures/tokenize/corpus.js';
import { Rng } from '../../src/util/rng.js';
import { SAMPLES } from '../tokenize/samples.js';

// What the synthetic corpus lacks: other scripts, combining marks, emoji sequences, odd whitespace, contractions
// in other cases (cl100k's pattern has a case-insensitive group), digits of other systems, code, special tokens.
const EDGES = [
  "DON'T WE'LL I'M it'S they'Re You'VE he'D",
  'Long s: it\u017Fs, Kelvin \u212A, dotted \u0130stanbul, \u00DF and SS',
  'NEL\u0085next, BOM\uFEFFbom, nbsp\u00A0x, LS\u2028PS\u2029, ideographic\u3000space, thin\u2009space',
  'tabs\t\t\tand   runs   \n\n\n   \r\n\r\n\t \n' + ' '.repeat(40) + 'x' + '\n'.repeat(7),
  'digits 1234567890 3.14159 1e-10 0x1F 1,000,000 ١٢٣ ٤٥ ½ ² Ⅻ 𝟙𝟚',
  '```python\nfor i in range(10):\n    print(i**2)  # squares\n\treturn {"a": [1, 2]}\n```\n',
  '\\begin{align} a &= b \\\\ c &\\leq \\frac{1}{2}\\,d \\end{align} $\\{x \\mid x>0\\}$ \\( \\) \\[ \\]',
  'emoji 🙂👍🏽👨‍👩‍👧 🇫🇷🏳️‍🌈 ❤️ 1️⃣ and text',
  'नमस्ते दुनिया, ภาษาไทย, 한국어 문장, e\u0301 n\u0303 a\u0308\u0301, Ελληνικά, עברית, العربية',
  '<|endoftext|> <|end_of_text|> <|user|>hi<|end_of_turn|> <|fim_prefix|>',
  ' leading space',
  '\n',
  'x',
];

/** Random strings over letters, digits, punctuation, whitespace, other scripts, combining marks and emoji. */
function randomTexts(n: number): string[] {
  const chars = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      \n\t\r.,;:!?\'"()[]{}\\$^_+-=*/<>|&%#@~`éüßøçñ日本語中文한국αβγδπΣ∫∑√≤≥→∞🙂👍🏽\u0301\u00a0\u200d\u0085'];
  const rng = new Rng(3);
  return Array.from({ length: n }, () => Array.from({ length: 1 + rng.int(60) }, () => chars[rng.int(chars.length)]).join(''));
}

function texts(): string[] {
  return [...SAMPLES.filter((s) => s !== ''), ...EDGES, ...[...corpus(11, 150_000)].map((d) => d.text), ...randomTexts(2000)];
}

/** A name for a text in TAP output, ASCII only: NEL and U+2028 would end the TAP line. */
const label = (text: string) => JSON.stringify(text.slice(0, 30)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function hfLoad(dir: string): HfTokenizer {
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as object;
  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as object;
  return new HfTokenizer(json, config);
}

/**
 * Ids of both on every text (Hugging Face tools always read special-token text as the special token, so
 * mathpipe's side allows specials) and text of decode; returns the texts whose ids differ.
 */
function compare(t: Test, tok: Tokenizer, hf: HfTokenizer, all: string[]): string[] {
  const differ: string[] = [];
  for (const text of all) {
    const ours = tok.encode(text, { allowSpecial: true });
    const theirs = hf.encode(text, { add_special_tokens: false }).ids;
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) differ.push(text);
    // tokenizers.js refuses to decode an empty list; there is nothing to compare there.
    if (theirs.length && hf.decode(theirs) !== text) t.fail(`decode round trip: ${label(text)}`);
  }
  t.pass(`decoded ${all.length} texts back`);
  return differ;
}

t.test('merges follow TikTokenConverter: every split into two tokens, by the merged rank, then the pieces\' ranks', async (t) => {
  const r = new Map(['a', 'b', 'c', 'ab', 'bc', 'abc', ' ', ' a'].map((s, i) => [s, i]));
  const { vocab, merges } = vocabAndMerges(r);
  t.same(merges, ['a b', 'b c', 'a bc', 'ab c', 'Ġ a']);
  t.equal(vocab['Ġa'], 7, 'space is spelled Ġ (GPT-2 byte alphabet)');
  const bytes = new Map([[Buffer.from([0x00, 0x0a, 0xad, 0xff]).toString('latin1'), 0]]);
  t.same(Object.keys(vocabAndMerges(bytes).vocab), ['ĀĊŃÿ'], 'unprintable bytes map past U+00FF, in byte order');
});

t.test('cl100k_base: tokenizer.json gives mathpipe\'s ids; tokenizer_config.json has the specials', async (t) => {
  const dir = join(t.testdir(), 'cl');
  const tok = loadTokenizer('cl100k_base');
  tok.save(dir);
  const hf = hfLoad(dir);
  const all = texts();
  const differ = compare(t, tok, hf, all);
  t.same(differ, [], `ids differ on ${differ.length} of ${all.length} texts`);
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  t.equal(json.model.ignore_merges, true);
  t.same(json.pre_tokenizer.pretokenizers.map((p: { type: string }) => p.type), ['Split', 'ByteLevel']);
  t.equal(json.pre_tokenizer.pretokenizers[0].pattern.Regex, tok.patStr, 'the tiktoken pattern, as is');
  t.equal(json.added_tokens.length, Object.keys(tok.specialTokens).length);
  t.ok(json.added_tokens.every((a: { special: boolean }) => a.special));
  const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  t.equal(cfg.tokenizer_class, 'PreTrainedTokenizerFast');
  t.equal(cfg.eos_token, '<|endoftext|>');
  t.equal(cfg.added_tokens_decoder['100257'].content, '<|endoftext|>');
  t.notOk('chat_template' in cfg, 'no chat tokens, no template');
  t.notOk('model_max_length' in cfg, 'a tokenizer alone has no context length');
  tok.free();
});

t.test('a BPE trained by `tokenize train`: the same ids in tokenizers.js, and a chat template over its tokens', async (t) => {
  const dir = t.testdir();
  const input = join(dir, 'corpus.jsonl');
  writeFileSync(input, [...corpus(5, 400_000)].map((d) => JSON.stringify(d) + '\n').join(''));
  const out = join(dir, 'tok');
  const r = await runCli(['tokenize', 'train', '-v', '2000', '-o', out, '-q', input]);
  t.equal(r.code, 0, r.stderr);
  const tok = loadTokenizer(out);
  const hf = hfLoad(out);
  const all = texts();
  const differ = compare(t, tok, hf, all);
  t.same(differ, [], `ids differ on ${differ.length} of ${all.length} texts`);

  const cfg = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'));
  t.same([cfg.bos_token, cfg.eos_token, cfg.pad_token], ['<|begin_of_text|>', '<|end_of_text|>', '<|pad|>']);
  t.equal(cfg.chat_template, tok.chatTemplate, 'the template sample --chat uses is the saved one');
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is $1+1$?' },
    { role: 'assistant', content: [{ type: 'text', text: '2' }] },
    { role: 'user', content: 'And 2+2?' },
  ];
  const text = new Template(cfg.chat_template).render({ messages, add_generation_prompt: true, bos_token: cfg.bos_token, eos_token: cfg.eos_token });
  t.equal(text, '<|system|>Be brief.<|end_of_turn|><|user|>What is $1+1$?<|end_of_turn|><|assistant|>2<|end_of_turn|><|user|>And 2+2?<|end_of_turn|><|assistant|>');
  const ids = hf.encode(text, { add_special_tokens: false }).ids;
  t.same(ids, tok.encode(text, { allowSpecial: true }));
  const c = tok.chat!;
  t.same(ids.filter((id: number) => tok.isSpecial(id)), [c.system, c.end_of_turn, c.user, c.end_of_turn, c.assistant, c.end_of_turn, c.user, c.end_of_turn, c.assistant], 'markers are single special tokens');
  t.equal(new Template(cfg.chat_template).render({ messages: messages.slice(0, 2), add_generation_prompt: false }).endsWith('<|end_of_turn|>'), true);
  t.throws(() => new Template(cfg.chat_template).render({ messages: [{ role: 'tool', content: 'x' }] }), /unsupported chat role: tool/);
  tok.free();
});
