// SFT records -> conversations. Three shapes are read: {"messages": [{role, content, train?}]} (system, user,
// assistant and tool turns), {"prompt", "completion"}, and benchmark-style fields named by options
// ({"question", "answer"} with --prompt-field question --completion-field answer). Each becomes a list of turns
// with the turns to train marked, by --loss-on.
import { DataError } from '../cli/errors.js';
import type { JsonlRecord } from '../jsonl/index.js';

export const LOSS_ON = ['auto', 'completion', 'assistant', 'all', 'last'] as const;
export type LossOn = (typeof LOSS_ON)[number];

/** Roles whose text comes from the outside world (program output): never trained, whatever --loss-on says. */
const TOOL_ROLES = new Set(['tool', 'ipython', 'function', 'observation']);

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
  /** Optional format tag (cot / pot / tool), passed through for reporting. */
  tag?: string;
}

export interface ExampleFields {
  prompt: string;
  completion: string;
  lossOn: LossOn;
}

/** A record as a conversation, or a DataError naming file:line. */
export function toConversation(rec: JsonlRecord, f: ExampleFields): Conversation {
  const where = `${rec.file === '-' ? '<stdin>' : rec.file}:${rec.line}`;
  const v = rec.value;
  const tag = typeof v.format === 'string' ? v.format : typeof v.tag === 'string' ? v.tag : undefined;
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
  return { turns, where, ...(tag ? { tag } : {}) };
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
    t.train = t.train && wanted && !TOOL_ROLES.has(t.role);
  });
}
