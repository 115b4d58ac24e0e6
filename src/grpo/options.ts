// The options every grpo command shares: which fields hold the question and its gold answer, how the prompt is
// rendered around the question, how the checker reads an answer, and where steps end. The policy, the reward model
// and the labeler must agree on them, so they are one definition.
import type { Options } from 'yargs';
import { UsageError } from '../cli/errors.js';
import { number } from '../cli/options.js';
import { EXTRACT_MODES, type ExtractMode } from '../checker/extract.js';
import type { StepSeparator } from './advantages.js';
import type { QuestionFields } from './data.js';

const EXTRACTS = EXTRACT_MODES.filter((m) => m !== 'deepseek');

export const QUESTION_OPTIONS: Record<string, Options> = {
  'question-field': { type: 'string', default: 'question', describe: 'The question field' },
  'answer-field': { type: 'string', default: 'answer', describe: 'The gold answer field' },
  'gold-extract': { choices: EXTRACTS, default: 'auto', describe: 'How to read the gold field (auto: "#### N" or \\boxed{} if present, else the whole field)' },
  extract: { choices: EXTRACTS, default: 'auto', describe: 'How the checker finds the answer in an output (auto: \\boxed{}, "The answer is", last number...)' },
  symbolic: { type: 'boolean', default: true, describe: 'Compare expressions symbolically (--no-symbolic: numbers and normal forms only, faster)' },
  'prompt-template': { type: 'string', default: '{question}', describe: 'Prompt text; {question} is replaced by the question (e.g. "{question}\\nPlease reason step by step, and put your final answer within \\\\boxed{}.")' },
  chat: { type: 'boolean', default: false, describe: 'Render the prompt as a user turn with the chat template (the checkpoint\'s, or --chat-template)' },
  'chat-template': { type: 'string', requiresArg: true, describe: 'Jinja chat template FILE (with --chat; the checkpoint saves it)' },
  system: { type: 'string', requiresArg: true, describe: 'With --chat: a system message first' },
  bos: { type: 'boolean', default: false, describe: 'Prepend the beginning-of-text token to plain prompts' },
};

export const SAMPLING_OPTIONS: Record<string, Options> = {
  stop: { type: 'string', requiresArg: true, describe: 'Stop an output before this string (repeatable); end-of-text always stops' },
  'top-p': { type: 'number', default: 1, describe: 'Nucleus sampling of the rollouts (1: off)' },
};

export const STEP_MARKER: Options = { type: 'string', requiresArg: true, describe: 'Steps end with this text (default: at blank lines)' };

export interface QuestionArgs {
  fields: QuestionFields;
  prompt: { template: string; chat: boolean; chatTemplate?: string; system?: string; bos: boolean };
  extract: ExtractMode;
  symbolic: boolean;
}

export function questionArgs(a: Record<string, unknown>): QuestionArgs {
  return {
    fields: { question: a['question-field'] as string, answer: a['answer-field'] as string, goldExtract: a['gold-extract'] as 'auto' | ExtractMode },
    prompt: { template: a['prompt-template'] as string, chat: Boolean(a.chat), chatTemplate: a['chat-template'] as string | undefined, system: a.system as string | undefined, bos: Boolean(a.bos) },
    extract: a.extract as ExtractMode,
    symbolic: Boolean(a.symbolic),
  };
}

export function samplingArgs(a: Record<string, unknown>): { stop: string[]; topP: number } {
  const v = a.stop;
  return { stop: (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String), topP: a['top-p'] as number };
}

export function stepSeparator(a: Record<string, unknown>): StepSeparator {
  return a['step-marker'] !== undefined ? { kind: 'marker', text: a['step-marker'] as string } : { kind: 'blank-line' };
}

/** The checks of the shared options. */
export function checkQuestionOptions(a: Record<string, unknown>): void {
  if (a['chat-template'] && !a.chat) throw new UsageError('--chat-template needs --chat');
  if (a.system !== undefined && !a.chat) throw new UsageError('--system needs --chat');
  if (a['step-marker'] === '') throw new UsageError('--step-marker must not be empty');
  if (a['top-p'] !== undefined) number(a['top-p'], '--top-p', { above: 0, max: 1 });
}

/** The prompt settings a reward model records and must be scored with. */
export function promptRecord(p: QuestionArgs['prompt']): { template: string; chat: boolean; system: string | null; bos: boolean } {
  return { template: p.template, chat: p.chat, system: p.system ?? null, bos: p.bos };
}
