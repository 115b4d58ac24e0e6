// DeepSeek-Math's few-shot prompts, fetched from their source: evaluation/few_shot_prompts/*.py at a pinned
// commit of github.com/deepseek-ai/DeepSeek-Math, read without running Python (the module-level
// `few_shot_prompt = """...""".strip()`, the f-string that format_prompt() returns, the list stop_words()
// returns) and written as prompt files in the layout `eval run` reads (../shared/data/prompts). An npm
// install ships no prompt text: `mathpipe eval fetch prompts` makes the cot and pot styles work anywhere.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../cli/errors.js';
import { writeOutputFile } from '../cli/output-file.js';
import { info } from '../cli/log.js';
import { splitTemplate, type PromptFile } from './prompts.js';
import { pyLstrip, pyRstrip, pyStrip } from '../checker/deepseek.js';

export const DEEPSEEK_COMMIT = 'b8b0f8ce093d80bf8e9a641e44142f06d092c305';
const BASE = `https://raw.githubusercontent.com/deepseek-ai/DeepSeek-Math/${DEEPSEEK_COMMIT}/evaluation/few_shot_prompts`;

/** The prompt files the benchmarks use (minif2f's Isabelle prompt is not an `eval run` format). */
export const PROMPT_FILES = [
  'cot_gsm_8_shot', 'cot_minerva_math_4_shot', 'pal_gsm_8_shot', 'pal_math_4_shot', 'cot_cmath_6_shot', 'cot_gaokao_mathcloze_5_shot',
  'cot_gaokao_mathqa_5_shot', 'cot_math_sat_4_shot', 'cot_mmlu_stem_4_shot', 'cot_ocwcourses_4_shot',
];

export function promptUrl(name: string): string {
  return `${BASE}/${name}.py`;
}

interface Lit {
  value: string;
  end: number;
  prefix: string;
}

/** Python escape sequences of a non-raw literal. */
function unescape(body: string): string {
  return body.replace(/\\(\n|\\|'|"|a|b|f|n|r|t|v|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|.)/gs, (m, e: string) => {
    switch (e[0]) {
      case '\n':
        return '';
      case '\\':
      case "'":
      case '"':
        return e;
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'v':
        return '\v';
      case 'x':
      case 'u':
      case 'U':
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      default:
        if (/^[0-7]/.test(e)) return String.fromCodePoint(parseInt(e, 8));
        return m; // an unknown escape keeps its backslash, as Python does
    }
  });
}

/** The string literal starting at `i` (prefix letters, then ' " ''' or """), or null. */
function literalAt(src: string, i: number): Lit | null {
  const m = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(src.slice(i));
  if (!m) return null;
  const prefix = m[1]!.toLowerCase();
  const q = m[2]!;
  let j = i + m[0].length;
  const start = j;
  for (; j < src.length; j++) {
    if (src[j] === '\\') {
      j++;
      continue;
    }
    if (src.startsWith(q, j)) break;
    if (q.length === 1 && src[j] === '\n') return null;
  }
  if (j >= src.length) return null;
  const body = src.slice(start, j);
  return { value: prefix.includes('r') ? body : unescape(body), end: j + q.length, prefix };
}

const WS = /[ \t]*/y;

function skipSpace(src: string, i: number, newlines = false): number {
  const re = newlines ? /(?:\s|\\\n|#[^\n]*)*/y : WS;
  re.lastIndex = i;
  re.exec(src);
  return re.lastIndex;
}

/** A string expression: literals (implicitly concatenated, maybe in parentheses), then .strip() and friends. */
function stringExpr(src: string, i0: number): { value: string; end: number; prefix: string } | null {
  let i = skipSpace(src, i0);
  const paren = src[i] === '(';
  if (paren) i = skipSpace(src, i + 1, true);
  let value = '';
  let prefix = '';
  let any = false;
  for (;;) {
    const lit = literalAt(src, i);
    if (!lit) break;
    value += lit.value;
    prefix += lit.prefix;
    any = true;
    i = skipSpace(src, lit.end, paren);
  }
  if (!any) return null;
  if (paren) {
    if (src[i] !== ')') return null;
    i++;
  }
  for (;;) {
    const m = /^\.(strip|lstrip|rstrip)\(\)/.exec(src.slice(i));
    if (!m) break;
    value = m[1] === 'strip' ? pyStrip(value) : m[1] === 'lstrip' ? pyLstrip(value) : pyRstrip(value);
    i += m[0].length;
  }
  return { value, end: i, prefix };
}

/** The body of `def NAME(...)`: from its line to the next line indented no deeper than the def. */
function defBody(src: string, name: string): string | null {
  const m = new RegExp(`^([ \\t]*)def ${name}\\s*\\(`, 'm').exec(src);
  if (!m) return null;
  const indent = m[1]!.length;
  const lines = src.slice(m.index).split('\n');
  const out = [lines[0]!];
  for (const l of lines.slice(1)) {
    if (l.trim() !== '' && l.length - l.trimStart().length <= indent) break;
    out.push(l);
  }
  return out.join('\n');
}

/** Parse one few_shot_prompts/*.py file into a prompt file; a DataError names what is missing. */
export function parsePromptPy(src: string, name: string): PromptFile {
  const where = `${name}.py`;
  // The last module-level assignment wins (the OCW file assigns few_shot_prompt twice).
  let fsp: string | null = null;
  for (const m of src.matchAll(/^few_shot_prompt\s*=/gm)) {
    const e = stringExpr(src, m.index + m[0].length);
    if (e) fsp = e.value;
  }
  if (fsp === null) throw new DataError(where, 'no module-level few_shot_prompt string');
  const fmt = defBody(src, 'format_prompt');
  const am = fmt ? /^\s*prompt\s*=\s*/m.exec(fmt) : null;
  const tpl = am && fmt ? stringExpr(fmt, am.index + am[0].length) : null;
  if (!tpl || !tpl.prefix.includes('f')) throw new DataError(where, 'format_prompt() does not build its prompt from one f-string');
  let bad = false;
  const template = tpl.value.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, expr?: string) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const map: Record<string, string> = { few_shot_prompt: '{few_shot_prompt}', task_input: '{question}', task_output: '{answer}' };
    const v = map[(expr ?? '').trim()];
    if (!v) bad = true;
    return v ?? m;
  });
  if (bad || !template.includes('{question}')) throw new DataError(where, 'format_prompt() uses more than few_shot_prompt, task_input and task_output');
  const stopBody = defBody(src, 'stop_words');
  const stop: string[] = [];
  const rm = stopBody ? /return\s*\[/.exec(stopBody) : null;
  if (stopBody && rm) {
    let i = rm.index + rm[0].length;
    for (;;) {
      i = skipSpace(stopBody, i, true);
      const lit = literalAt(stopBody, i);
      if (!lit) break;
      stop.push(lit.value);
      i = skipSpace(stopBody, lit.end, true);
      if (stopBody[i] === ',') i++;
    }
  }
  return { name, template, stop_words: stop, few_shot_prompt: fsp, exemplars: splitExemplars(fsp, template) };
}

/**
 * The exemplars of a few-shot block, when the block is exactly the exemplars in the query template joined by
 * its separator (so --shots can take the first N); else none (the block is still used whole).
 */
export function splitExemplars(block: string, template: string): { question: string; answer: string }[] {
  const { sep, item } = splitTemplate(template);
  const qi = item.indexOf('{question}');
  const ai = item.indexOf('{answer}');
  if (qi < 0 || ai < qi) return [];
  const head = item.slice(0, qi);
  const mid = item.slice(qi + '{question}'.length, ai);
  const tail = item.slice(ai + '{answer}'.length);
  if (!head || !mid || !block.startsWith(head)) return [];
  const parts = block.slice(head.length).split(sep + head);
  const out: { question: string; answer: string }[] = [];
  for (const p of parts) {
    const k = p.indexOf(mid);
    if (k < 0 || (tail && !p.endsWith(tail))) return [];
    out.push({ question: p.slice(0, k), answer: p.slice(k + mid.length, tail ? p.length - tail.length : p.length) });
  }
  const rebuilt = out.map((e) => head + e.question + mid + e.answer + tail).join(sep);
  return rebuilt === block ? out : [];
}

/** Write parsed prompt files into `dir` (the layout of ../shared/data/prompts). */
export function writePromptFiles(dir: string, files: { name: string; source: string; url: string }[]): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const f of files) {
    const p = parsePromptPy(f.source, f.name);
    const dest = join(dir, `${f.name}.json`);
    const json = { ...p, num_exemplars: p.exemplars.length, source: { repo: 'deepseek-ai/DeepSeek-Math', path: `evaluation/few_shot_prompts/${f.name}.py`, commit: DEEPSEEK_COMMIT, url: f.url, license: 'MIT (LICENSE-CODE)' } };
    writeOutputFile(dest, JSON.stringify(json, null, 1) + '\n');
    info(`prompts/${f.name}: ${p.exemplars.length || 'a'} exemplar${p.exemplars.length === 1 ? '' : 's'}${p.exemplars.length ? '' : ' block'}, stop ${JSON.stringify(p.stop_words)} -> ${dest}`);
    written.push(dest);
  }
  return written;
}

/** Prompt files already fetched into `dir` (all of them), so a second fetch downloads nothing. */
export function promptsCached(dir: string): boolean {
  return PROMPT_FILES.every((n) => {
    const p = join(dir, `${n}.json`);
    if (!existsSync(p)) return false;
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { source?: { commit?: string } }).source?.commit === DEEPSEEK_COMMIT;
    } catch {
      return false;
    }
  });
}
