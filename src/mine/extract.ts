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

interface MathCapture {
  alttext: string;
  display: boolean;
  mml: string[];
  tex: string | undefined;
  inTexAnnotation: boolean;
  depth: number;
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

export function extractHtml(html: string): Extracted {
  const out = new TextOut();
  const stack: Frame[] = [];
  let skip = 0;
  let inMjx = 0;
  let pre = 0;
  let math: MathCapture | null = null;
  let scriptMath: { display: boolean; parts: string[] } | null = null;
  let configScript: string[] | null = null;
  let title = '';
  let inTitle = false;
  let mathCount = 0;
  let delimiters: Delimiters | undefined;
  let inArticle = 0;
  const cellFirst: boolean[] = [];

  const emitMath = (tex: string, display: boolean) => {
    const s = wrap(tex.replace(/\s+/g, ' '), display);
    if (!s) return;
    mathCount++;
    if (display) {
      out.brk(1);
      out.inline(s);
      out.brk(1);
    } else {
      out.inline(s);
    }
  };

  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (math) {
          math.depth++;
          if (name === 'annotation') {
            const enc = (attrs.encoding ?? '').toLowerCase();
            math.inTexAnnotation = enc.includes('tex');
          }
          if (name !== 'semantics' && name !== 'annotation' && name !== 'annotation-xml') {
            let a = '';
            for (const [k, v] of Object.entries(attrs)) a += ` ${k}="${escapeXml(v).replace(/"/g, '&quot;')}"`;
            math.mml.push(`<${name}${a}>`);
          }
          return;
        }
        let kind: Kind = 'plain';
        const cls = attrs.class ?? '';
        if (name === 'title' && !title && stack.every((f) => f.name !== 'svg')) {
          inTitle = true;
          kind = 'title';
        } else if (name === 'math' && (skip === 0 || inMjx > 0)) {
          math = {
            alttext: attrs.alttext ?? '',
            display: attrs.display === 'block' || attrs.mode === 'display' || inDisplayContext(),
            mml: [],
            tex: undefined,
            inTexAnnotation: false,
            depth: 1,
          };
          math.mml.push('<math>');
          stack.push({ name, kind: 'math' });
          return;
        } else if (name === 'script') {
          const type = (attrs.type ?? '').toLowerCase();
          if (type.startsWith('math/tex') && skip === 0) {
            scriptMath = { display: /mode\s*=\s*display/.test(type), parts: [] };
            kind = 'mathScript';
          } else {
            if (/mathjax-config|javascript|^$/.test(type) || type === 'text/x-mathjax-config') configScript = [];
            kind = 'skip';
          }
        } else if (name.startsWith('mjx-container')) {
          kind = 'mjx';
        } else if (skip > 0) {
          kind = 'skip';
        } else if (
          SKIP_TAGS.has(name) ||
          (name === 'header' && inArticle === 0) ||
          isHidden(attrs) ||
          RENDERED_MATH.test(cls) ||
          (cls && BOILERPLATE.test(cls)) ||
          (attrs.id && BOILERPLATE.test(attrs.id)) ||
          attrs.role === 'navigation' ||
          attrs.role === 'banner' ||
          attrs.role === 'contentinfo'
        ) {
          kind = 'skip';
        } else if (name === 'img') {
          const m = latexFromImg(attrs);
          if (m) emitMath(m.tex, m.display);
          return;
        } else if (name === 'br') {
          out.lineBreak();
          return;
        } else if (name === 'pre') {
          kind = 'pre';
          pre++;
          out.brk(2);
        } else if (/^h[1-6]$/.test(name)) {
          kind = 'heading';
          out.brk(2);
          out.setPrefix(`${'#'.repeat(Number(name[1]))} `);
        } else if (name === 'li') {
          kind = 'li';
          out.brk(1);
          const list = [...stack].reverse().find((f) => f.kind === 'list');
          if (list && list.olCount !== undefined) out.setPrefix(`${++list.olCount}. `);
          else out.setPrefix('- ');
        } else if (name === 'ul' || name === 'ol') {
          kind = 'list';
          out.brk(1);
          stack.push({ name, kind, ...(name === 'ol' ? { olCount: Number(attrs.start ?? 1) - 1 || 0 } : {}) });
          return;
        } else if (name === 'tr') {
          kind = 'row';
          out.brk(1);
          cellFirst.push(true);
        } else if (name === 'td' || name === 'th') {
          kind = 'cell';
          if (cellFirst.length) {
            if (!cellFirst[cellFirst.length - 1]) out.inline(' | ');
            cellFirst[cellFirst.length - 1] = false;
          }
        } else if (PARA_TAGS.has(name)) {
          kind = 'para';
          out.brk(2);
        } else if (BLOCK_TAGS.has(name)) {
          kind = 'block';
          out.brk(1);
          if (name === 'article' || name === 'main') inArticle++;
        }
        if (VOID_TAGS.has(name)) return;
        if (kind === 'skip') skip++;
        if (kind === 'mjx') {
          skip++;
          inMjx++;
        }
        const display = attrs.display === 'true' || /(?:^|\s)katex-display(?:$|\s)/.test(cls);
        stack.push(display ? { name, kind, display } : { name, kind });
      },
      ontext(text) {
        if (math) {
          if (math.inTexAnnotation) math.tex = (math.tex ?? '') + text;
          else math.mml.push(escapeXml(text));
          return;
        }
        if (scriptMath) {
          scriptMath.parts.push(text);
          return;
        }
        if (inTitle) {
          title += text;
          return;
        }
        if (configScript) {
          configScript.push(text);
          return;
        }
        if (skip) return;
        if (pre) out.pre(text);
        else out.text(text);
      },
      onclosetag(name) {
        if (math) {
          if (name === 'annotation') math.inTexAnnotation = false;
          if (math.depth > 1) {
            math.depth--;
            if (name !== 'semantics' && name !== 'annotation' && name !== 'annotation-xml') math.mml.push(`</${name}>`);
            return;
          }
          const m = math;
          math = null;
          stack.pop();
          const tex = m.alttext.trim() || m.tex?.trim() || mathmlToTex(`${m.mml.join('')}</math>`);
          if (tex) emitMath(tex, m.display);
          return;
        }
        // htmlparser2 reports a close for void elements too; they never got a frame.
        if (VOID_TAGS.has(name)) return;
        const f = stack.pop();
        if (!f) return;
        switch (f.kind) {
          case 'mathScript':
            if (scriptMath) emitMath(scriptMath.parts.join(''), scriptMath.display);
            scriptMath = null;
            break;
          case 'skip':
            skip--;
            if (configScript) {
              const d = mathJaxDelimiters(configScript.join(''));
              if (d) delimiters = d;
              configScript = null;
            }
            break;
          case 'mjx':
            skip--;
            inMjx--;
            break;
          case 'title':
            inTitle = false;
            break;
          case 'pre':
            pre--;
            out.brk(2);
            break;
          case 'heading':
          case 'para':
            out.brk(2);
            break;
          case 'row':
            cellFirst.pop();
            out.brk(1);
            break;
          case 'li':
          case 'list':
            out.brk(1);
            break;
          case 'block':
            if (f.name === 'article' || f.name === 'main') inArticle--;
            out.brk(1);
            break;
          default:
            break;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );

  function inDisplayContext(): boolean {
    // KaTeX marks display math on an ancestor (<span class="katex-display">); MathJax 3 on <mjx-container display="true">.
    return stack.some((f) => f.display === true);
  }

  parser.write(html);
  parser.end();
  let text = out.toString();
  if (delimiters) text = normaliseDelimiters(text, delimiters);
  return { text, title: title.replace(/\s+/g, ' ').trim(), mathCount };
}
