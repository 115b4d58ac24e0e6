// Accumulates extracted text with HTML-like whitespace rules: runs of whitespace collapse to one space,
// block boundaries become line breaks (at most one blank line), and preformatted text is kept verbatim.

const WS_RUN = /[ \t\n\r\f\u00a0\u200b]+/g;
const NEEDS_COLLAPSE = /[\t\n\r\f\u00a0\u200b]| {2}/;

export class TextOut {
  private parts: string[] = [];
  /** 0 nothing pending, 1 newline, 2 blank line. */
  private pendingBreak = 0;
  private pendingSpace = false;
  private atLineStart = true;
  private empty = true;
  /** Text to put at the start of the next line that receives content (list bullets, heading marks). */
  private prefix = '';

  /** Request a line break (1) or a paragraph break (2) before the next content. */
  brk(n: 1 | 2): void {
    if (n > this.pendingBreak) this.pendingBreak = n;
    this.pendingSpace = false;
  }

  setPrefix(p: string): void {
    this.prefix = p;
  }

  /** A hard line break (<br>): always ends the line, even an empty one, but never more than a blank line. */
  lineBreak(): void {
    if (this.empty) return;
    if (this.pendingBreak < 2) this.pendingBreak++;
    this.pendingSpace = false;
  }

  /** Flowing text: whitespace collapsed. */
  text(s: string): void {
    if (!s) return;
    // Most text nodes need no collapsing: test first, so they are not copied.
    const collapsed = NEEDS_COLLAPSE.test(s) ? s.replace(WS_RUN, ' ') : s;
    if (collapsed === ' ') {
      if (!this.atLineStart) this.pendingSpace = true;
      return;
    }
    let body = collapsed;
    if (body.startsWith(' ')) {
      this.pendingSpace = true;
      body = body.slice(1);
    }
    const trailing = body.endsWith(' ');
    if (trailing) body = body.slice(0, -1);
    this.emit(body);
    if (trailing) this.pendingSpace = true;
  }

  /** Inline content that must not be re-spaced (inline math): separated from words only by existing spaces. */
  inline(s: string): void {
    if (s) this.emit(s);
  }

  /** Preformatted text: kept as is (tabs expanded would change code; we keep them). */
  pre(s: string): void {
    if (!s) return;
    const lines = s.replace(/\r\n?/g, '\n').split('\n');
    lines.forEach((line, i) => {
      if (i > 0) {
        this.parts.push('\n');
        this.atLineStart = true;
      }
      if (line) this.emit(line, true);
    });
  }

  private emit(s: string, verbatim = false): void {
    if (this.pendingBreak && !this.empty) {
      this.parts.push(this.pendingBreak === 2 ? '\n\n' : '\n');
      this.atLineStart = true;
    }
    this.pendingBreak = 0;
    if (this.atLineStart) {
      if (this.prefix) {
        this.parts.push(this.prefix);
        this.prefix = '';
      }
    } else if (this.pendingSpace && !verbatim) {
      this.parts.push(' ');
    }
    this.pendingSpace = false;
    this.parts.push(s);
    this.atLineStart = false;
    this.empty = false;
  }

  toString(): string {
    return this.parts
      .join('')
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  }
}
