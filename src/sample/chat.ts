// Chat prompts: messages -> prompt text through a Jinja chat template, rendered by @huggingface/jinja (the engine
// transformers.js uses, with the trim_blocks/lstrip_blocks settings transformers renders with), so a checkpoint's
// template gives here the text it gives in transformers and vLLM. The template comes from --chat-template FILE,
// else the checkpoint's tokenizer_config.json ("chat_template", as Hugging Face stores it), else a built-in one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { DataError } from '../cli/errors.js';
import type { Tokenizer } from '../tokenizer/index.js';

/**
 * DeepSeek's chat format (the template of deepseek-llm-chat and deepseek-math-instruct): "User: ...\n\nAssistant:",
 * system text first, each assistant turn ended by the end-of-text token. Plain text, so any tokenizer can carry it.
 */
export const DEEPSEEK_TEMPLATE =
  "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\\n\\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}{% elif message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

export interface ChatMessage {
  role: string;
  content: string;
}

export interface ChatFormat {
  /** Where the template came from: a file path, "tokenizer_config.json", "built-in deepseek" or "built-in markers". */
  source: string;
  template: string;
  /** Extra stop ids the format implies (the end-of-turn marker of the built-in marker template). */
  stopIds: number[];
  /** Prompt text for these messages, ending with the assistant's generation prompt. */
  render(messages: ChatMessage[]): string;
  /** The conversation's text, with or without the generation prompt (SFT renders prefixes to find the trained turns). */
  text(messages: ChatMessage[], addGenerationPrompt: boolean): string;
}

/** A token's name for the template: tokenizer_config.json holds a string or an AddedToken object {content}. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

function nameOf(tok: Tokenizer, id: number): string {
  return Object.entries(tok.specialTokens).find(([, i]) => i === id)?.[0] ?? '';
}

/** The template in a tokenizer_config.json (string, or HF's list of named templates: "default" or the first). */
function configTemplate(path: string): { template?: string; bos?: string; eos?: string } {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new DataError(path, `cannot read tokenizer config: ${(e as Error).message}`);
  }
  let template: string | undefined;
  const t = raw.chat_template;
  if (typeof t === 'string') template = t;
  else if (Array.isArray(t)) {
    const named = t as { name?: unknown; template?: unknown }[];
    const pick = named.find((x) => x.name === 'default') ?? named[0];
    if (typeof pick?.template === 'string') template = pick.template;
  }
  return { template, bos: tokenText(raw.bos_token), eos: tokenText(raw.eos_token) };
}

/** The chat format for a checkpoint directory and its tokenizer; `file` overrides the template. */
export function chatFormat(dir: string, tok: Tokenizer, file?: string): ChatFormat {
  let bos = nameOf(tok, tok.bos);
  let eos = nameOf(tok, tok.eos);
  let template: string | undefined;
  let source = '';
  const cfgPath = join(dir, 'tokenizer_config.json');
  if (existsSync(cfgPath)) {
    const c = configTemplate(cfgPath);
    bos = c.bos ?? bos;
    eos = c.eos ?? eos;
    if (c.template) [template, source] = [c.template, cfgPath];
  }
  if (file) {
    try {
      template = readFileSync(file, 'utf8');
    } catch (e) {
      throw new DataError(file, `cannot read chat template: ${(e as Error).message}`);
    }
    source = file;
  }
  const stopIds: number[] = [];
  if (!template) {
    // The tokenizer's chat markers (from `tokenize train`): the template every checkpoint's tokenizer_config.json
    // carries for them (src/tokenizer/chat-template.ts), for checkpoints saved before it did.
    if (tok.chatTemplate && tok.chat) {
      template = tok.chatTemplate;
      source = 'built-in markers';
      stopIds.push(tok.chat.end_of_turn);
    } else {
      template = DEEPSEEK_TEMPLATE;
      source = 'built-in deepseek';
    }
  }
  let compiled: Template;
  try {
    compiled = new Template(template);
  } catch (e) {
    throw new DataError(source, `chat template does not parse: ${(e as Error).message}`);
  }
  return {
    source,
    template,
    stopIds,
    render: (messages) => compiled.render({ messages, add_generation_prompt: true, bos_token: bos, eos_token: eos }),
    text: (messages, addGenerationPrompt) => compiled.render({ messages, add_generation_prompt: addGenerationPrompt, bos_token: bos, eos_token: eos }),
  };
}


/**
 * `messages` as a record holds it: {role, content} with content a string or OpenAI-style parts
 * ([{"type": "text", "text": ...}], joined into one string so every template sees a string); otherwise a reason.
 */
export function parseMessages(v: unknown): ChatMessage[] | string {
  if (!Array.isArray(v) || !v.length) return 'must be a non-empty array of {"role", "content"} objects';
  const out: ChatMessage[] = [];
  for (const [i, m] of v.entries()) {
    const { role, content } = (typeof m === 'object' && m !== null ? m : {}) as { role?: unknown; content?: unknown };
    let text: string | undefined;
    if (typeof content === 'string') text = content;
    else if (Array.isArray(content) && content.every((p) => typeof p === 'object' && p !== null))
      text = (content as { type?: unknown; text?: unknown }[]).map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
    if (typeof role !== 'string' || text === undefined) return `message ${i} is not {"role": string, "content": string or text parts}`;
    out.push({ ...(m as object), role, content: text });
  }
  return out;
}
