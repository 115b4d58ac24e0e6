// The chat template of mathpipe's chat tokens, in the Jinja dialect Hugging Face stores in tokenizer_config.json
// ("chat_template"), so transformers' apply_chat_template, vLLM's chat endpoint and `sample --chat` (through
// @huggingface/jinja) render a conversation to the same text:
//   <|system|>You are terse.<|end_of_turn|><|user|>1+1?<|end_of_turn|><|assistant|>2<|end_of_turn|>
// and, with add_generation_prompt, a trailing <|assistant|> for the model to continue.
// No BOS: mathpipe's documents carry none by default (`tokenize --bos` is opt-in), so prompts should not either.
// Content may be a string or OpenAI-style parts ([{"type": "text", "text": ...}]), the two forms vLLM passes.
import type { ChatTokens } from './files.js';

/** Jinja text outside tags is literal unless it opens a tag; refuse tokens that would. */
function literal(token: string): string {
  if (/[{}%#]/.test(token)) throw new Error(`chat token ${JSON.stringify(token)} cannot appear literally in a Jinja template`);
  return token;
}

export function chatTemplate(chat: ChatTokens): string {
  const [system, user, assistant, end] = [chat.system, chat.user, chat.assistant, chat.end_of_turn].map(literal);
  const content =
    "{%- if message['content'] is string -%}{{ message['content'] }}" +
    "{%- else -%}{%- for part in message['content'] -%}{%- if part['type'] == 'text' -%}{{ part['text'] }}{%- endif -%}{%- endfor -%}{%- endif -%}";
  return (
    '{%- for message in messages -%}' +
    `{%- if message['role'] == 'system' -%}${system}` +
    `{%- elif message['role'] == 'user' -%}${user}` +
    `{%- elif message['role'] == 'assistant' -%}${assistant}` +
    "{%- else -%}{{ raise_exception('unsupported chat role: ' + message['role'] + ' (system, user and assistant only)') }}" +
    '{%- endif -%}' +
    content +
    end +
    '{%- endfor -%}' +
    `{%- if add_generation_prompt -%}${assistant}{%- endif -%}`
  );
}
