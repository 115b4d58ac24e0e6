// HTML -> text that keeps the mathematics, following OpenWebMath's rules: TeX from
// <script type="math/tex">, KaTeX/MathML annotations and alttext, MathML converted when no TeX is attached,
// LaTeX images, MathJax previews and rendered copies dropped, `$...$` and `\(...\)` in the text left alone.
// Boilerplate (navigation, headers/footers, forms, cookie banners, scripts, styles) is removed; headings,
// lists, code and tables stay readable. A streaming (SAX) parser keeps this fast and allocation-light.
import { Parser } from 'htmlparser2';
import { MathMLToLaTeX } from 'mathml-to-latex';
import { TextOut } from './text-out.js';
import { latexFromImg, mathJaxDelimiters, normaliseDelimiters, type Delimiters } from './math-markup.js';

export interface Extracted {
  text: string;
  title: string;
  /** How many formulas came from markup (scripts, MathML, KaTeX, images), not counting $...$ in the text. */
  mathCount: number;
}

const SKIP_TAGS = new Set([
  'script', 'style', 'noscript', 'template', 'svg', 'canvas', 'iframe', 'object', 'embed', 'nav', 'footer',
  'aside', 'form', 'button', 'select', 'option', 'textarea', 'input', 'dialog', 'head', 'map', 'audio', 'video',
]);
const BLOCK_TAGS = new Set([
  'div', 'section', 'article', 'main', 'header', 'figure', 'figcaption', 'address', 'center', 'dl', 'dt', 'dd',
  'table', 'thead', 'tbody', 'tfoot', 'caption', 'ul', 'ol', 'details', 'summary', 'fieldset', 'body', 'html',
]);
const PARA_TAGS = new Set(['p', 'blockquote', 'hr']);
const VOID_TAGS = new Set(['br', 'hr', 'img', 'input', 'meta', 'link', 'area', 'base', 'col', 'embed', 'source', 'track', 'wbr', 'param']);

/** class/id words that mark page furniture rather than content. */
const BOILERPLATE =
  /(?:^|[\s_-])(?:nav|navbar|navigation|menu|menubar|footer|site-footer|sidebar|breadcrumbs?|cookies?|cookie-banner|consent|gdpr|banner|share|sharing|social|advert|advertisement|ads|adsbygoogle|popup|modal|skip-link|subscribe|newsletter|related-posts|masthead|toolbar)(?:$|[\s_-])/i;
/** Rendered copies of math whose TeX source sits next to them (MathJax 2 keeps the script; KaTeX keeps the annotation). */
const RENDERED_MATH = /(?:^|\s)(?:MathJax_Preview|MathJax|MathJax_Display|MathJax_SVG|MathJax_SVG_Display|MathJax_CHTML|MathJax_MathML|katex-html|MJX_Assistive_MathML)(?:$|\s)/;

type Kind = 'skip' | 'math' | 'mathScript' | 'pre' | 'heading' | 'li' | 'list' | 'cell' | 'row' | 'block' | 'para' | 'title' | 'mjx' | 'plain';

interface Frame {
  name: string;
  kind: Kind;
  olCount?: number;
  /** A display-math wrapper (KaTeX's .katex-display, MathJax 3's display="true"). */
  display?: boolean;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function isHidden(attrs: Record<string, string>): boolean {
  if ('hidden' in attrs) return true;
  if (attrs['aria-hidden'] === 'true') return true;
  const style = attrs.style;
  return style !== undefined && /display\s*:\s*none|visibility\s*:\s*hidden/i.test(style);
}

function wrap(tex: string, display: boolean): string {
  const t = tex.trim();
  if (!t) return '';
  return display ? `$$${t}$$` : `$${t}$`;
}

/** Convert a MathML fragment; undefined when the converter cannot handle it. */
function mathmlToTex(mml: string): string | undefined {
  try {
    const t = MathMLToLaTeX.convert(mml).trim();
    return t || undefined;
  } catch {
    return undefined;
  }
}

/**
 * One <math> element being read: its MathML re-serialised, and the TeX attached to it (the alttext attribute or
 * a TeX <annotation>), which wins over converting the MathML.
 */
class MathElement {
  private readonly mml = ['<math>'];
  private tex: string | undefined;
  private inTexAnnotation = false;
  private depth = 1;

  constructor(
    private readonly alttext: string,
    readonly display: boolean,
  ) {}

  open(name: string, attrs: Record<string, string>): void {
    this.depth++;
    if (name === 'annotation') this.inTexAnnotation = (attrs.encoding ?? '').toLowerCase().includes('tex');
    if (name !== 'semantics' && name !== 'annotation' && name !== 'annotation-xml') {
      let a = '';
      for (const [k, v] of Object.entries(attrs)) a += ` ${k}="${escapeXml(v).replace(/"/g, '&quot;')}"`;
      this.mml.push(`<${name}${a}>`);
    }
  }

  text(text: string): void {
    if (this.inTexAnnotation) this.tex = (this.tex ?? '') + text;
    else this.mml.push(escapeXml(text));
  }

  /** A close tag inside the element; true when it closes the <math> element itself. */
  close(name: string): boolean {
    if (name === 'annotation') this.inTexAnnotation = false;
    if (this.depth === 1) return true;
    this.depth--;
    if (name !== 'semantics' && name !== 'annotation' && name !== 'annotation-xml') this.mml.push(`</${name}>`);
    return false;
  }

  /** The formula: alttext, else the TeX annotation, else the MathML converted (undefined when that fails). */
  toTex(): string | undefined {
    return this.alttext.trim() || this.tex?.trim() || mathmlToTex(`${this.mml.join('')}</math>`);
  }
}

/** Page furniture and rendered copies: the element and everything inside it are dropped. */
function isBoilerplate(name: string, attrs: Record<string, string>, inArticle: boolean): boolean {
  const cls = attrs.class ?? '';
  return (
    SKIP_TAGS.has(name) ||
    (name === 'header' && !inArticle) ||
    isHidden(attrs) ||
    RENDERED_MATH.test(cls) ||
    (cls !== '' && BOILERPLATE.test(cls)) ||
    (!!attrs.id && BOILERPLATE.test(attrs.id)) ||
    attrs.role === 'navigation' ||
    attrs.role === 'banner' ||
    attrs.role === 'contentinfo'
  );
}

/** The SAX handlers of one extraction and the state they share (the open elements and what is being captured). */
class HtmlToText {
  private readonly out = new TextOut();
  private readonly stack: Frame[] = [];
  /** Open elements whose text is dropped ('skip' and 'mjx' frames). */
  private skip = 0;
  /** Open <mjx-container>s: skipped, but the MathML inside them is read. */
  private inMjx = 0;
  private pre = 0;
  /** Open <article>/<main>: a <header> inside one is content, not page furniture. */
  private inArticle = 0;
  /** Per open table row: no cell seen yet (cells after the first are separated by " | "). */
  private readonly cellFirst: boolean[] = [];
  private math: MathElement | null = null;
  private scriptMath: { display: boolean; parts: string[] } | null = null;
  /** Text of a script that may configure MathJax's delimiters. */
  private configScript: string[] | null = null;
  private delimiters: Delimiters | undefined;
  private title = '';
  private inTitle = false;
  private mathCount = 0;

  run(html: string): Extracted {
    const parser = new Parser(
      {
        onopentag: (name, attrs) => this.openTag(name, attrs),
        ontext: (text) => this.text(text),
        onclosetag: (name) => this.closeTag(name),
      },
      { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
    );
    parser.write(html);
    parser.end();
    let text = this.out.toString();
    if (this.delimiters) text = normaliseDelimiters(text, this.delimiters);
    return { text, title: this.title.replace(/\s+/g, ' ').trim(), mathCount: this.mathCount };
  }

  private openTag(name: string, attrs: Record<string, string>): void {
    if (this.math) return this.math.open(name, attrs);
    if (name === 'title' && !this.title && this.stack.every((f) => f.name !== 'svg')) {
      this.inTitle = true;
      return this.push(name, 'title', attrs);
    }
    if (name === 'math' && (this.skip === 0 || this.inMjx > 0)) {
      this.math = new MathElement(attrs.alttext ?? '', attrs.display === 'block' || attrs.mode === 'display' || this.inDisplay());
      this.stack.push({ name, kind: 'math' });
      return;
    }
    const dropped = this.droppedKind(name, attrs);
    if (dropped) return this.push(name, dropped, attrs);
    if (name === 'img') {
      const m = latexFromImg(attrs);
      if (m) this.emitMath(m.tex, m.display);
      return;
    }
    if (name === 'br') return this.out.lineBreak();
    if (name === 'ul' || name === 'ol') {
      this.out.brk(1);
      this.stack.push({ name, kind: 'list', ...(name === 'ol' ? { olCount: Number(attrs.start ?? 1) - 1 || 0 } : {}) });
      return;
    }
    this.push(name, this.openLayout(name), attrs);
  }

  /** Kinds of element whose text does not go out as text: TeX scripts, skipped elements, MathJax 3 output. */
  private droppedKind(name: string, attrs: Record<string, string>): Kind | undefined {
    if (name === 'script') {
      const type = (attrs.type ?? '').toLowerCase();
      if (type.startsWith('math/tex') && this.skip === 0) {
        this.scriptMath = { display: /mode\s*=\s*display/.test(type), parts: [] };
        return 'mathScript';
      }
      if (/mathjax-config|javascript|^$/.test(type) || type === 'text/x-mathjax-config') this.configScript = [];
      return 'skip';
    }
    if (name.startsWith('mjx-container')) return 'mjx';
    if (this.skip > 0 || isBoilerplate(name, attrs, this.inArticle > 0)) return 'skip';
    return undefined;
  }

  /** The layout an element opens (breaks, prefixes, cell separators) and its kind. */
  private openLayout(name: string): Kind {
    const out = this.out;
    if (name === 'pre') {
      this.pre++;
      out.brk(2);
      return 'pre';
    }
    if (/^h[1-6]$/.test(name)) {
      out.brk(2);
      out.setPrefix(`${'#'.repeat(Number(name[1]))} `);
      return 'heading';
    }
    if (name === 'li') {
      out.brk(1);
      const list = [...this.stack].reverse().find((f) => f.kind === 'list');
      if (list && list.olCount !== undefined) out.setPrefix(`${++list.olCount}. `);
      else out.setPrefix('- ');
      return 'li';
    }
    if (name === 'tr') {
      out.brk(1);
      this.cellFirst.push(true);
      return 'row';
    }
    if (name === 'td' || name === 'th') {
      const n = this.cellFirst.length;
      if (n) {
        if (!this.cellFirst[n - 1]) out.inline(' | ');
        this.cellFirst[n - 1] = false;
      }
      return 'cell';
    }
    if (PARA_TAGS.has(name)) {
      out.brk(2);
      return 'para';
    }
    if (BLOCK_TAGS.has(name)) {
      out.brk(1);
      if (name === 'article' || name === 'main') this.inArticle++;
      return 'block';
    }
    return 'plain';
  }

  /** A frame for an element that will be closed (void elements get none: they never close). */
  private push(name: string, kind: Kind, attrs: Record<string, string>): void {
    if (VOID_TAGS.has(name)) return;
    if (kind === 'skip') this.skip++;
    if (kind === 'mjx') {
      this.skip++;
      this.inMjx++;
    }
    const display = attrs.display === 'true' || /(?:^|\s)katex-display(?:$|\s)/.test(attrs.class ?? '');
    this.stack.push(display ? { name, kind, display } : { name, kind });
  }

  private text(text: string): void {
    if (this.math) return this.math.text(text);
    if (this.scriptMath) {
      this.scriptMath.parts.push(text);
      return;
    }
    if (this.inTitle) {
      this.title += text;
      return;
    }
    if (this.configScript) {
      this.configScript.push(text);
      return;
    }
    if (this.skip) return;
    if (this.pre) this.out.pre(text);
    else this.out.text(text);
  }

  private closeTag(name: string): void {
    if (this.math) {
      if (!this.math.close(name)) return;
      const m = this.math;
      this.math = null;
      this.stack.pop();
      const tex = m.toTex();
      if (tex) this.emitMath(tex, m.display);
      return;
    }
    // htmlparser2 reports a close for void elements too; they never got a frame.
    if (VOID_TAGS.has(name)) return;
    const f = this.stack.pop();
    if (f) this.closeFrame(f);
  }

  private closeFrame(f: Frame): void {
    const out = this.out;
    switch (f.kind) {
      case 'mathScript':
        if (this.scriptMath) this.emitMath(this.scriptMath.parts.join(''), this.scriptMath.display);
        this.scriptMath = null;
        break;
      case 'skip':
        this.skip--;
        if (this.configScript) {
          const d = mathJaxDelimiters(this.configScript.join(''));
          if (d) this.delimiters = d;
          this.configScript = null;
        }
        break;
      case 'mjx':
        this.skip--;
        this.inMjx--;
        break;
      case 'title':
        this.inTitle = false;
        break;
      case 'pre':
        this.pre--;
        out.brk(2);
        break;
      case 'heading':
      case 'para':
        out.brk(2);
        break;
      case 'row':
        this.cellFirst.pop();
        out.brk(1);
        break;
      case 'li':
      case 'list':
        out.brk(1);
        break;
      case 'block':
        if (f.name === 'article' || f.name === 'main') this.inArticle--;
        out.brk(1);
        break;
      default:
        break;
    }
  }

  private emitMath(tex: string, display: boolean): void {
    const s = wrap(tex.replace(/\s+/g, ' '), display);
    if (!s) return;
    this.mathCount++;
    if (display) {
      this.out.brk(1);
      this.out.inline(s);
      this.out.brk(1);
    } else {
      this.out.inline(s);
    }
  }

  /** KaTeX marks display math on an ancestor (<span class="katex-display">); MathJax 3 on <mjx-container display="true">. */
  private inDisplay(): boolean {
    return this.stack.some((f) => f.display === true);
  }
}

export function extractHtml(html: string): Extracted {
  return new HtmlToText().run(html);
}
