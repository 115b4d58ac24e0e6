// Segments for `--mode segment`: paragraphs, i.e. text separated by at least one blank line (a line
// holding only whitespace). Inside a paragraph, line breaks are ordinary whitespace, so an n-gram may
// span lines of one paragraph but never two paragraphs. Spans index the original (unnormalised) text
// so kept paragraphs are written back exactly as they were.

export interface Span {
  start: number;
  end: number;
}

const BREAK = /\n[^\S\n]*\n\s*/g;

export function paragraphs(text: string): Span[] {
  const out: Span[] = [];
  let start = 0;
  BREAK.lastIndex = 0;
  for (let m = BREAK.exec(text); m; m = BREAK.exec(text)) {
    out.push({ start, end: m.index });
    start = m.index + m[0].length;
  }
  out.push({ start, end: text.length });
  return out;
}

/**
 * The text with the paragraphs not in `keep` removed. Each kept paragraph keeps the separator that
 * preceded it, so a document with nothing removed comes back unchanged.
 */
export function keepParagraphs(text: string, spans: Span[], keep: boolean[]): string {
  let out = '';
  let first = true;
  for (let i = 0; i < spans.length; i++) {
    if (!keep[i]) continue;
    if (!first) out += text.slice(spans[i - 1].end, spans[i].start);
    out += text.slice(spans[i].start, spans[i].end);
    first = false;
  }
  return out;
}
