// A conversation -> token ids and the mask of trained tokens, through the checkpoint's chat template. The mask is
// derived by rendering prefixes incrementally (no special template tags needed): for each turn k, the text
// render(turns[..k]) extends render(turns[..k-1]); an assistant turn's own text is what follows the generation
// prompt render(turns[..k-1], add_generation_prompt). So the tokens before an assistant turn are exactly the
// prompt `sample --chat` would give the model, and the turn's end-of-turn / EOS tokens are trained with it.
import { DataError } from '../cli/errors.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { Conversation } from './examples.js';
import { TOOL_ROLES } from './templates.js';

/** The chat template as a function: messages -> text, with or without the assistant's generation prompt. */
export type Render = (messages: { role: string; content: string }[], addGenerationPrompt: boolean) => string;

export interface Encoded {
  ids: Int32Array;
  /** 1 where the token is trained (as a target), 0 elsewhere. */
  trained: Uint8Array;
  /** The example's format tag (examples.ts formatOf). */
  tag: string;
}

/** A stand-in for a tool turn's output, to find where the output starts in a render. */
const SENTINEL = '\u0000mathpipe-tool-output\u0000';

/**
 * Text pieces of the rendered conversation, each trained or not, in order. A template may render an assistant turn
 * differently when a tool turn follows it (the built-in tool templates: the program's text is not ended by an
 * end-of-turn but by the output block, as eval's tool style writes it). Then the assistant's trained text runs up to
 * where the output starts (found by rendering a stand-in output), so the model learns the opening of the output
 * block (eval's stop string) as the end of its turn; the output and what closes it are not trained.
 */
export function renderPieces(c: Conversation, render: Render): { text: string; train: boolean }[] {
  const pieces: { text: string; train: boolean }[] = [];
  let done = '';
  const take = (next: string, train: boolean, what: string) => {
    if (!next.startsWith(done))
      throw new DataError(c.where, `the chat template does not render ${what} as an extension of the turns before it; the trained-token mask cannot be derived`);
    if (next.length > done.length) pieces.push({ text: next.slice(done.length), train });
    done = next;
  };
  const turns = c.turns.map(({ role, content }) => ({ role, content }));
  c.turns.forEach((t, k) => {
    const upto = turns.slice(0, k + 1);
    const before = done.length;
    if (t.role === 'assistant') take(render(upto.slice(0, k), true), false, `the generation prompt before turn ${k}`);
    const whole = render(upto, false);
    const next = turns[k + 1];
    if (t.role === 'assistant' && next && TOOL_ROLES.includes(next.role) && !render(turns.slice(0, k + 2), false).startsWith(whole)) {
      const probe = render([...upto, { role: next.role, content: SENTINEL }], false);
      const at = probe.indexOf(SENTINEL);
      if (at < 0) throw new DataError(c.where, `the chat template does not write tool turn ${k + 1}'s content; the trained-token mask cannot be derived`);
      take(probe.slice(0, at), t.train, `turn ${k} (${t.role}) before a tool turn`);
    } else take(whole, t.train, `turn ${k} (${t.role})`);
    // A template that drops a role (DeepSeek's renders only system, user and assistant) would silently lose text.
    if (t.content && done.length === before) throw new DataError(c.where, `the chat template renders nothing for turn ${k} (${t.role}); give a --chat-template that renders ${t.role} turns (built in: markers, deepseek)`);
  });
  return pieces;
}

/**
 * Token ids and mask. Pieces are encoded one by one with special tokens allowed (the template writes the chat
 * markers as text), so a trained piece never shares a token with the prompt before it.
 */
export function encodeConversation(c: Conversation, render: Render, tok: Tokenizer): Encoded {
  const ids: number[] = [];
  const trained: number[] = [];
  for (const p of renderPieces(c, render)) {
    const piece = tok.encodeArray(p.text, { allowSpecial: true });
    for (const id of piece) {
      ids.push(id);
      trained.push(p.train ? 1 : 0);
    }
  }
  return { ids: Int32Array.from(ids), trained: Uint8Array.from(trained), tag: c.tag };
}
