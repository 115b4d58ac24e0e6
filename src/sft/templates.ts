// Built-in chat templates with tool turns, for program-of-thought and tool-integrated data. A tool turn (program
// output) is written into the assistant's text the way `eval run --style tool` continues a generation
// (src/eval/run.ts, toolLoop): the assistant text up to its program, right-stripped, then "\n```output\n" OUTPUT
// "\n```\n", and the next assistant turn continues that text with no new header. So the model learns to end a
// program with the stop string eval waits for ("```output") and to go on after the output eval pastes in, and the
// prompt before each continuation is exactly the text eval sends. Without tool turns they render as the templates
// they extend (the tokenizer's marker template; DeepSeek's "User: ...\n\nAssistant:" as `eval --chat-template
// deepseek` writes it, so without a BOS text).
import { Template } from '@huggingface/jinja';
import { DataError, UsageError } from '../cli/errors.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { Render } from './encode.js';

export const BUILTIN_TEMPLATES = ['markers', 'deepseek'] as const;
export type BuiltinTemplate = (typeof BUILTIN_TEMPLATES)[number];

/** Roles whose text is program output (also never trained: see examples.ts). */
export const TOOL_ROLES = ['tool', 'ipython', 'function', 'observation'];

/** Text as a Jinja string expression: literal text next to whitespace-trimming tags ({%- -%}) would lose its newlines. */
function text(s: string): string {
  return s ? `{{ '${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}' }}` : '';
}

const nameOf = (tok: Tokenizer, id: number): string => Object.entries(tok.specialTokens).find(([, i]) => i === id)?.[0] ?? '';

/** The loop both templates share: `open(role)` before a turn's text, `close(role)` after it (Jinja snippets). */
function toolTemplate(open: Record<'system' | 'user' | 'assistant', string>, close: Record<'system' | 'user' | 'assistant', string>, generationPrompt: string): string {
  const tools = `[${TOOL_ROLES.map((r) => `'${r}'`).join(', ')}]`;
  const turn = (role: 'system' | 'user') => `{%- elif message['role'] == '${role}' -%}${text(open[role])}{{ message['content'] }}${text(close[role])}`;
  return (
    `{%- set tools = ${tools} -%}` +
    '{%- for message in messages -%}' +
    "{%- set prev = messages[loop.index0 - 1]['role'] if loop.index0 > 0 else '' -%}" +
    "{%- set next = messages[loop.index0 + 1]['role'] if loop.index0 + 1 < messages|length else '' -%}" +
    "{%- if message['role'] in tools -%}{{ '\\n```output\\n' + message['content'] + '\\n```\\n' }}" +
    turn('system') +
    turn('user') +
    "{%- elif message['role'] == 'assistant' -%}" +
    `{%- if prev not in tools -%}${text(open.assistant)}{%- endif -%}` +
    `{%- if next in tools -%}{{ message['content'].rstrip() }}{%- else -%}{{ message['content'] }}${text(close.assistant)}{%- endif -%}` +
    "{%- else -%}{{ raise_exception('unsupported chat role: ' + message['role'] + ' (system, user, assistant and tool)') }}" +
    '{%- endif -%}' +
    '{%- endfor -%}' +
    `{%- if add_generation_prompt and not (messages|length > 0 and messages[messages|length - 1]['role'] in tools) -%}${text(generationPrompt)}{%- endif -%}`
  );
}

/** The template text of a built-in: the tokenizer's chat markers, or DeepSeek's text format ended by its EOS. */
export function builtinTemplate(name: BuiltinTemplate, tok: Tokenizer): string {
  if (name === 'markers') {
    if (!tok.chat) throw new UsageError(`--chat-template markers: tokenizer ${tok.name} has no chat markers (tokenizers from \`mathpipe tokenize train\` do); use --chat-template deepseek`);
    const [system, user, assistant, end] = [tok.chat.system, tok.chat.user, tok.chat.assistant, tok.chat.end_of_turn].map((id) => nameOf(tok, id));
    return toolTemplate({ system, user, assistant }, { system: end, user: end, assistant: end }, assistant);
  }
  const eos = nameOf(tok, tok.eos);
  return toolTemplate({ system: '', user: 'User: ', assistant: 'Assistant: ' }, { system: '\n\n', user: '\n\n', assistant: eos }, 'Assistant:');
}

/** A template as a render function (bos_token and eos_token bound to the tokenizer's, as sample binds them). */
export function compileTemplate(template: string, source: string, tok: Tokenizer): Render {
  let compiled: Template;
  try {
    compiled = new Template(template);
  } catch (e) {
    throw new DataError(source, `chat template does not parse: ${(e as Error).message}`);
  }
  const [bos_token, eos_token] = [nameOf(tok, tok.bos), nameOf(tok, tok.eos)];
  return (messages, addGenerationPrompt) => compiled.render({ messages, add_generation_prompt: addGenerationPrompt, bos_token, eos_token });
}
