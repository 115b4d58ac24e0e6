// A conversation -> token ids and the mask of trained tokens, through the checkpoint's chat template. The mask is
// derived by rendering prefixes incrementally (no special template tags needed): for each turn k, the text
// render(turns[..k]) extends render(turns[..k-1]); an assistant turn's own text is what follows the generation
// prompt render(turns[..k-1], add_generation_prompt). So the tokens before an assistant turn are exactly the
// prompt `sample --chat` would give the model, and the turn's end-of-turn / EOS tokens are trained with it.
import { DataError } from '../cli/errors.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { Conversation } from './examples.js';

/** The chat template as a function: messages -> text, with or without the assistant's generation prompt. */
export type Render = (messages: { role: string; content: string }[], addGenerationPrompt: boolean) => string;

export interface Encoded {
  ids: Int32Array;
  /** 1 where the token is trained (as a target), 0 elsewhere. */
  trained: Uint8Array;
  tag?: string;
}

/** Text pieces of the rendered conversation, each trained or not, in order. */
export function renderPieces(c: Conversation, render: Render): { text: string; train: boolean }[] {
  const pieces: { text: string; train: boolean }[] = [];
  let done = '';
  const take = (next: string, train: boolean, what: string) => {
    if (!next.startsWith(done))
      throw new DataError(c.where, `the chat template does not render ${what} as an extension of the turns before it; the trained-token mask cannot be derived`);
    if (next.length > done.length) pieces.push({ text: next.slice(done.length), train });
    done = next;
  };
  c.turns.forEach((t, k) => {
    const upto = c.turns.slice(0, k + 1).map(({ role, content }) => ({ role, content }));
    if (t.role === 'assistant') take(render(upto.slice(0, k), true), false, `the generation prompt before turn ${k}`);
    take(render(upto, false), t.train, `turn ${k} (${t.role})`);
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
  return { ids: Int32Array.from(ids), trained: Uint8Array.from(trained), ...(c.tag ? { tag: c.tag } : {}) };
}
