// Golden tests: each kind of math markup comes out as LaTeX, and page furniture does not come out at all.
import t from 'tap';
import { extractHtml } from '../../src/mine/extract.js';
import { latexFromImg } from '../../src/mine/math-markup.js';
import { looksMathy } from '../../src/mine/prefilter.js';
import { guessLanguage } from '../../src/mine/language.js';
import { decodeHtml } from '../../src/mine/charset.js';
import { parseHttpResponse } from '../../src/mine/http.js';
import { gzipSync } from 'node:zlib';

const body = (s: string) => `<html><head><title>T</title></head><body>${s}</body></html>`;
const text = (s: string) => extractHtml(body(s)).text;

t.test('MathJax scripts: inline and display, previews dropped', async (t) => {
  t.equal(
    text('<p>Let <span class="MathJax_Preview">x2</span><script type="math/tex">x^2</script> be given.</p><script type="math/tex; mode=display">\\int_0^1 f</script><p>Done.</p>'),
    'Let $x^2$ be given.\n\n$$\\int_0^1 f$$\n\nDone.',
  );
});

t.test('MathJax 2 rendered output is dropped in favour of its script', async (t) => {
  t.equal(text('<p>A <span class="MathJax" id="MathJax-Element-1-Frame"><nobr>x</nobr></span><script type="math/tex" id="MathJax-Element-1">x</script> B</p>'), 'A $x$ B');
});

t.test('$...$ and \\(...\\) in the text are left intact', async (t) => {
  t.equal(text('<p>If $a &lt; b$ then \\(a+1 &lt; b+1\\) and $$\\sum_i a_i$$.</p>'), 'If $a < b$ then \\(a+1 < b+1\\) and $$\\sum_i a_i$$.');
});

t.test('custom MathJax delimiters are normalised to $', async (t) => {
  const html = body(`<script type="text/x-mathjax-config">MathJax.Hub.Config({tex2jax:{inlineMath:[['[m]','[/m]']], displayMath:[['[dm]','[/dm]']]}});</script><p>So [m]x+y[/m] and [dm]z[/dm].</p>`);
  t.equal(extractHtml(html).text, 'So $x+y$ and $$z$$.');
});

t.test('KaTeX: TeX annotation kept, katex-html dropped, display detected', async (t) => {
  const k = (tex: string) =>
    `<span class="katex"><span class="katex-mathml"><math><semantics><mrow><mi>e</mi></mrow><annotation encoding="application/x-tex">${tex}</annotation></semantics></math></span><span class="katex-html" aria-hidden="true">RENDERED</span></span>`;
  t.equal(text(`<p>See ${k('e^{i\\pi}')} now.</p><span class="katex-display">${k('\\frac{a}{b}')}</span>`), 'See $e^{i\\pi}$ now.\n\n$$\\frac{a}{b}$$');
});

t.test('MathML: alttext, TeX annotation, or converted', async (t) => {
  t.equal(text('<p><math alttext="a^2"><msup><mi>a</mi><mn>2</mn></msup></math></p>'), '$a^2$');
  t.equal(text('<p><math><semantics><mi>q</mi><annotation encoding="TeX">\\mathbb{Q}</annotation></semantics></math></p>'), '$\\mathbb{Q}$');
  t.equal(text('<p>r = <math><mfrac><mi>a</mi><mi>b</mi></mfrac></math></p>'), 'r = $\\frac{a}{b}$');
  t.equal(text('<math display="block"><msqrt><mi>x</mi></msqrt></math>'), '$$\\sqrt{x}$$');
});

t.test('MathJax 3: assistive MathML kept, glyphs dropped', async (t) => {
  t.equal(text('<p>v <mjx-container class="MathJax" jax="CHTML"><mjx-math>GLYPHS</mjx-math><mjx-assistive-mml><math><mi>v</mi><mo>=</mo><mn>1</mn></math></mjx-assistive-mml></mjx-container></p>'), 'v $v = 1$');
});

t.test('LaTeX images: wp-latex alt, codecogs URL, mimetex, ordinary images ignored', async (t) => {
  t.same(latexFromImg({ src: 'https://s0.wp.com/latex.php?latex=x%5E2&bg=ffffff', alt: 'x^2', class: 'latex' }), { tex: 'x^2', display: false });
  t.same(latexFromImg({ src: 'https://latex.codecogs.com/png.latex?\\dpi{120} \\frac{1}{2}' }), { tex: '\\frac{1}{2}', display: false });
  t.same(latexFromImg({ src: 'https://s0.wp.com/latex.php?latex=%5Csqrt%7B2%7D&bg=fff', alt: '' }), { tex: '\\sqrt{2}', display: false });
  t.same(latexFromImg({ src: '/cgi-bin/mimetex.cgi?e^{x}' }), { tex: 'e^{x}', display: false });
  t.equal(latexFromImg({ src: '/img/cat.jpg', alt: 'a cat' }), undefined);
  t.equal(text('<p>We have <img src="https://latex.codecogs.com/gif.latex?a+b" alt=""> here <img src="x.png" alt="cat">.</p>'), 'We have $a+b$ here .');
});

t.test('boilerplate removed; headings, lists, code and tables readable', async (t) => {
  const out = text(`<header><nav>Home About</nav></header><div class="cookie-banner">Accept cookies</div>
<div id="sidebar">Links</div><main><h2>Title</h2><ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol>
<pre>  indented
    code</pre><table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table></main>
<footer>Copyright</footer><form>Search <input></form><style>p{}</style><script>var x=1</script>`);
  t.equal(out, '## Title\n\n- one\n- two\n1. first\n2. second\n\n  indented\n    code\n\na | b\n1 | 2');
});

t.test('title captured', async (t) => {
  t.equal(extractHtml(body('<p>x</p>')).title, 'T');
});

t.test('prefilter: math markup and vocabulary pass, prices do not', async (t) => {
  t.ok(looksMathy('<script type="math/tex">x</script>'));
  t.ok(looksMathy('where $x^2 + 1$ is positive'));
  t.ok(looksMathy('<img src="https://latex.codecogs.com/gif.latex?x">'));
  t.ok(looksMathy('The theorem follows from the lemma and a short proof.'));
  t.notOk(looksMathy('Shoes for $49.99, socks for $5. Free delivery.'));
});

t.test('language guess by script and function words', async (t) => {
  t.equal(guessLanguage('The cat is on the mat and it is happy with the sun.'), 'en');
  t.equal(guessLanguage('Der Hund ist nicht auf dem Tisch und die Katze ist mit ihm.'), 'de');
  t.equal(guessLanguage('这是一个关于数学的网页，我们讨论二次方程的解法。'), 'zh');
  t.equal(guessLanguage('これは数学についてのページです。二次方程式を解きます。'), 'ja');
  t.equal(guessLanguage('x'), undefined);
});

t.test('charset: header, meta, fallback', async (t) => {
  const gbk = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]); // 你好 in GBK
  t.equal(decodeHtml(gbk, 'text/html; charset=gb2312').text, '你好');
  t.equal(decodeHtml(Buffer.concat([Buffer.from('<meta charset="gbk">'), gbk]), 'text/html').text, '<meta charset="gbk">你好');
  t.equal(decodeHtml(Buffer.from([0x63, 0x61, 0x66, 0xe9]), undefined).text, 'café');
  t.equal(decodeHtml(Buffer.from('naïve'), undefined).text, 'naïve');
});

t.test('HTTP payload: chunked and gzip undone', async (t) => {
  const gz = gzipSync('<p>hi</p>');
  const chunked = Buffer.concat([Buffer.from(`${gz.length.toString(16)}\r\n`), gz, Buffer.from('\r\n0\r\n\r\n')]);
  const res = parseHttpResponse(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n'), chunked]));
  t.equal(res?.status, 200);
  t.equal(res?.body.toString(), '<p>hi</p>');
  t.equal(parseHttpResponse(Buffer.from('garbage')), undefined);
});
