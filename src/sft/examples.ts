// SFT records -> conversations. Three shapes are read: {"messages": [{role, content, train?}]} (system, user,
// assistant and tool turns), {"prompt", "completion"}, and benchmark-style fields named by options
// ({"question", "answer"} with --prompt-field question --completion-field answer). Each becomes a list of turns
// with the turns to train marked, by --loss-on.
import { DataError } from '../cli/errors.js';
import type { JsonlRecord } from '../jsonl/index.js';
import { TOOL_ROLES } from './templates.js';

export const LOSS_ON = ['auto', 'completion', 'assistant', 'all', 'last'] as const;
export type LossOn = (typeof LOSS_ON)[number];

export interface Turn {
  role: string;
  content: string;
  /** Train on this turn's tokens (for 'all', every turn; never a tool turn). */
  train: boolean;
}

export interface Conversation {
  turns: Turn[];
  /** Where it came from, for errors: file:line. */
  where: string;
  /** Format tag (cot / pot / tool, or the record's own): the loss is reported per tag. */
  tag: string;
}

export interface ExampleFields {
  prompt: string;
  completion: string;
  lossOn: LossOn;
  /** Field holding the example's format tag; without it the tag is detected (formatOf). */
  format: string;
}

/**
 * An example's format from its content: tool (a tool turn: tool-integrated reasoning), pot (a trained turn with a
 * code block: program of thought), else cot (chain of thought).
 */
export function formatOf(turns: Turn[]): string {
  if (turns.some((t) => TOOL_ROLES.includes(t.role))) return 'tool';
  if (turns.some((t) => t.train && t.content.includes('```'))) return 'pot';
  return 'cot';
}

/** A record as a conversation, or a DataError naming file:line. */
export function toConversation(rec: JsonlRecord, f: ExampleFields): Conversation {
  const where = `${rec.file === '-' ? '<stdin>' : rec.file}:${rec.line}`;
  const v = rec.value;
  const given = v[f.format];
  if (given !== undefined && (typeof given !== 'string' || !/^[a-z0-9_-]{1,32}$/i.test(given)))
    throw new DataError(where, `"${f.format}" (the format tag) must be a short name of letters, digits, _ and - (e.g. cot, pot, tool)`);
  let turns: Turn[];
  let isChat: boolean;
  if (v.messages !== undefined) {
    isChat = true;
    if (!Array.isArray(v.messages) || !v.messages.length) throw new DataError(where, '"messages" must be a non-empty array of {"role", "content"}');
    turns = v.messages.map((m, i) => {
      if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new DataError(where, `message ${i} is not an object`);
      const { role, content, train } = m as Record<string, unknown>;
      if (typeof role !== 'string' || typeof content !== 'string') throw new DataError(where, `message ${i} needs string "role" and "content"`);
      if (train !== undefined && typeof train !== 'boolean') throw new DataError(where, `message ${i}: "train" must be true or false`);
      return { role, content, train: train ?? true };
    });
  } else {
    isChat = false;
    const p = v[f.prompt];
    const c = v[f.completion];
    if (typeof p !== 'string' || typeof c !== 'string') throw new DataError(where, `needs "messages", or string "${f.prompt}" and "${f.completion}" fields`);
    turns = [
      { role: 'user', content: p, train: true },
      { role: 'assistant', content: c, train: true },
    ];
  }
  markTrained(turns, f.lossOn === 'auto' ? (isChat ? 'assistant' : 'completion') : f.lossOn);
  if (!turns.some((t) => t.train)) throw new DataError(where, `no turn to train on (--loss-on ${f.lossOn})`);
  return { turns, where, tag: given !== undefined ? given.toLowerCase() : formatOf(turns) };
}

/**
 * Which turns carry loss: all (every turn), assistant (every assistant turn), completion (the last assistant turn:
 * the completion of a prompt/completion record), last (the last turn, whatever its role). A turn's own
 * `train: false` always wins, and tool output is never trained.
 */
function markTrained(turns: Turn[], lossOn: Exclude<LossOn, 'auto'>): void {
  const lastAssistant = turns.map((t) => t.role).lastIndexOf('assistant');
  turns.forEach((t, i) => {
    const wanted = lossOn === 'all' || (lossOn === 'assistant' && t.role === 'assistant') || (lossOn === 'completion' && i === lastAssistant) || (lossOn === 'last' && i === turns.length - 1);
    t.train = t.train && wanted && !TOOL_ROLES.includes(t.role);
  });
}
