// Pulling the final answer out of a model response. Each extractor returns null when the response holds
// no answer of its kind: a truncated response (an unterminated \boxed{) must score as "no answer", never
// fall through to some number in the middle of the reasoning.
import { dsExtractAnswer } from './deepseek.js';

export const EXTRACT_MODES = ['auto', 'boxed', 'answer-tag', 'answer-is', 'gsm8k', 'last-number', 'choice', 'none', 'deepseek'] as const;
export type ExtractMode = (typeof EXTRACT_MODES)[number];

const BOX_COMMANDS = ['\\boxed', '\\fbox'];

/** Where the last \boxed / \fbox starts (-1: none). */
function lastBoxIndex(text: string): number {
  return Math.max(...BOX_COMMANDS.map((c) => text.lastIndexOf(c)));
}

/** The content of the last \boxed{...} (or \fbox), braces balanced; null if none or if it is unterminated. */
export function lastBoxed(text: string): string | null {
  const start = lastBoxIndex(text);
  if (start < 0) return null;
  return boxAt(text, start);
}

/** Every terminated \boxed{...} / \fbox{...} in order of appearance. */
export function allBoxed(text: string): string[] {
  const out: string[] = [];
  const re = /\\(?:boxed|fbox)(?![a-zA-Z])/g;
  for (const m of text.matchAll(re)) {
    const b = boxAt(text, m.index);
    if (b !== null) out.push(b);
  }
  return out;
}

/** The argument of the box command at `start`, or null when it is unterminated. */
function boxAt(text: string, start: number): string | null {
  const cmdLen = text.startsWith('\\boxed', start) ? 6 : 5;
  let i = start + cmdLen;
  if (text[i] === '{') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const ch = text[j];
      if (ch === '\\') {
        j++; // an escaped brace \{ does not open or close a group
        continue;
      }
      if (ch === '{') depth++;
      else if (ch === '}') {
        depth--;
        if (depth === 0) return text.slice(i + 1, j).trim();
      }
    }
    return null;
  }
  // `\boxed 5`: the argument is one token, up to whitespace or `$`.
  if (text[i] !== ' ') return null;
  while (text[i] === ' ') i++;
  const m = /^[^\s$]+/.exec(text.slice(i));
  return m ? m[0] : null;
}

/** `<answer>...</answer>` (the R1-zero format); a \boxed{} inside it wins. */
export function answerTag(text: string): string | null {
  const open = text.lastIndexOf('<answer>');
  if (open < 0) return null;
  const close = text.indexOf('</answer>', open);
  if (close < 0) return null;
  const inner = text.slice(open + 8, close).trim();
  if (inner.includes('\\boxed') || inner.includes('\\fbox')) return lastBoxed(inner);
  return inner;
}

const ANSWER_IS = /(?:the\s+(?:final\s+)?answer\s+is|final\s+answer\s*:|答案是|答案为|答案：)/gi;

/** Where the last "The answer is" phrase starts (-1: none). */
function lastAnswerIsIndex(text: string): number {
  let last = -1;
  for (const m of text.matchAll(ANSWER_IS)) last = m.index;
  return last;
}

/** The text after the last "The answer is" (DeepSeek few-shot CoT), up to the end of its sentence. */
export function answerIs(text: string): string | null {
  let last: RegExpExecArray | null = null;
  for (const m of text.matchAll(ANSWER_IS)) last = m as RegExpExecArray;
  if (!last) return null;
  let rest = text.slice(last.index + last[0].length).trim();
  const boxed = lastBoxed(rest);
  if (boxed !== null) return boxed;
  rest = rest.split(/\n/)[0]!.trim();
  rest = rest.replace(/^[:：]\s*/, '');
  // The sentence ends at a period followed by a space or the end ("The answer is $18$. I hope it is
  // correct."); a decimal point is followed by a digit.
  rest = /^(.*?)(?:[.。](?=\s|$)|$)/.exec(rest)![1]!.trim();
  if (rest.startsWith('$') && rest.endsWith('$') && rest.length > 1) rest = rest.replace(/^\$+|\$+$/g, '');
  return rest === '' ? null : rest;
}

/** The gold format of GSM8K: the text after the last "####". */
export function gsm8kHashes(text: string): string | null {
  const i = text.lastIndexOf('####');
  if (i < 0) return null;
  const rest = text.slice(i + 4).trim().split('\n')[0]!.trim();
  return rest === '' ? null : rest;
}

const NUMBER = /-?\d[\d,]*(?:\.\d+)?(?:\/\d+)?|-?\.\d+/g;

/** The last number in the text (thousands separators allowed), without a trailing period. */
export function lastNumber(text: string): string | null {
  let last: string | null = null;
  for (const m of text.matchAll(NUMBER)) last = m[0];
  if (last === null) return null;
  last = last.replace(/,+$/, '');
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(last)) return last.replace(/,/g, '');
  // "3,4" is a list written without spaces: its last number.
  return last.slice(last.lastIndexOf(',') + 1);
}

/** "A, C", "(A)(D)", "A C", "A和D": only choice letters and separators -> "AC"; else null. */
export function choiceSet(s: string, letters = 'ABCDE'): string | null {
  const t = s.replace(/\\text\{([^{}]*)\}/g, '$1').replace(/\\mathrm\{([^{}]*)\}/g, '$1').trim();
  if (!new RegExp(`^(?:[\\s(),、，;；.]|and|和|与|[${letters}])+$`).test(t)) return null;
  const found = [...new Set(t.match(new RegExp(`[${letters}]`, 'g')) ?? [])].sort();
  return found.length ? found.join('') : null;
}

/**
 * A multiple-choice answer: "(B)", "B)", "answer is B", "\boxed{B}", a lone letter; several letters
 * ("\boxed{AD}", "The answer is A, C") for multi-answer questions (Gaokao), returned sorted ("AD").
 */
export function choiceLetter(text: string, letters = 'ABCDE'): string | null {
  const cls = `[${letters}]`;
  const fromBoxed = (): string | null => {
    const boxed = lastBoxed(text);
    if (boxed === null) return null;
    const set = choiceSet(boxed, letters);
    if (set) return set;
    const m = new RegExp(`^\\(?(${cls})\\)?(?:[.:)\\s]|$)`).exec(boxed.replace(/\\text\{(.*)\}/, '$1').trim());
    return m ? m[1]! : null;
  };
  const fromLine = (): string | null => {
    const is = answerIs(text);
    if (is === null) return null;
    const set = choiceSet(is, letters);
    if (set) return set;
    const m = new RegExp(`(?:^|[\\s(\\[{])\\(?(${cls})\\)?(?=$|[\\s.,:;)\\]}])`).exec(is);
    return m ? m[1]! : null;
  };
  // The format's own answer line ("The final answer is (B).") and a boxed letter: the later one wins, so a
  // boxed value worked out before the line ("\boxed{[2,5)} ... The final answer is (B)") cannot outvote it.
  const [first, second] = lastAnswerIsIndex(text) > lastBoxIndex(text) ? [fromLine, fromBoxed] : [fromBoxed, fromLine];
  const stated = first() ?? second();
  if (stated) return stated;
  const trimmed = text.trim();
  const lone = new RegExp(`^\\(?(${cls})\\)?[.:]?$`).exec(trimmed);
  if (lone) return lone[1]!;
  // No stated answer: a last "(B)" counts, unless the response lists the options ("(A) ... (B) ... (C) ..."),
  // where the last letter is only the end of the list.
  const found = [...trimmed.matchAll(new RegExp(`\\((${cls})\\)`, 'g'))].map((m) => m[1]!);
  if (new Set(found).size >= 3) return null;
  return found.length ? found[found.length - 1]! : null;
}

/** An answer line's text that states a value (a number, math, a choice), not a sentence ("is correct"). */
function looksLikeAnswer(s: string): boolean {
  return /[\d\\$^_=(){}[\]]/.test(s) || /^\(?[A-E]\)?$/.test(s.trim());
}

/** The final answer of a response under the given mode. `auto`: answer tag, boxed, "answer is", ####, last number. */
export function extractAnswer(text: string, mode: ExtractMode = 'auto'): string | null {
  switch (mode) {
    case 'none':
      return text.trim();
    case 'boxed':
      return lastBoxed(text);
    case 'answer-tag':
      return answerTag(text);
    case 'answer-is':
      return answerIs(text);
    case 'gsm8k':
      return gsm8kHashes(text);
    case 'last-number':
      return lastNumber(text);
    case 'choice':
      return choiceLetter(text);
    case 'deepseek':
      // DeepSeek's generic extract_answer; per-benchmark extraction and comparison are in deepseek.ts.
      return dsExtractAnswer(text) || null;
    case 'auto': {
      if (text.includes('<answer>')) return answerTag(text);
      const box = lastBoxIndex(text);
      if (box >= 0) {
        // The few-shot formats' own answer line ("Final Answer: The final answer is $5$. I hope it is
        // correct.", "The answer is 5.", "答案是：1200元") wins over a box written before it.
        if (/answer|答案/i.test(text.slice(box)) && lastAnswerIsIndex(text) > box) {
          const line = answerIs(text);
          if (line !== null && looksLikeAnswer(line)) return line;
        }
        return lastBoxed(text);
      }
      return answerIs(text) ?? gsm8kHashes(text) ?? lastNumber(text);
    }
  }
}
