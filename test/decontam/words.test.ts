import t from 'tap';
import { Words, splitWords, wordStrings } from '../../src/decontam/words.js';

const words = (s: string) => wordStrings(splitWords(s, new Words()));
const hashes = (s: string) => {
  const w = splitWords(s, new Words());
  return Array.from(w.hashA.subarray(0, w.count), (a, i) => `${a}:${w.hashB[i]}`);
};

t.test('case, whitespace and punctuation do not change the words', async (t) => {
  const a = 'Janet’s ducks lay 16 eggs per day.  She eats three,\nfor breakfast!';
  const b = "JANETS ducks-lay 16 eggs per day she EATS three for breakfast";
  t.same(words(a), ['janets', 'ducks', 'lay', '16', 'eggs', 'per', 'day', 'she', 'eats', 'three', 'for', 'breakfast']);
  t.same(hashes(a), hashes(b));
});

t.test('numbers stay distinct', async (t) => {
  t.not(hashes('16 eggs')[0], hashes('17 eggs')[0]);
  t.same(words('3,000 or 3.5'), ['3', '000', 'or', '3', '5']);
});

t.test('math: operators separate words; LaTeX commands are words, markup commands are dropped', async (t) => {
  t.same(words('$y=\\frac{2}{x^2+x-6}$'), ['y', '\\frac', '2', 'x', '2', 'x', '6']);
  t.same(words('Compute $\\cos 315^\\circ$.'), ['compute', '\\cos', '315', '\\circ'], 'a short problem keeps its command words');
  t.same(hashes('\\cos x'), hashes('cos x'), 'a command is the word of its name');
  t.same(hashes('\\dfrac{1}{2} \\tfrac12 \\leq \\ldots \\dbinom{8}{4}'), hashes('\\frac{1}{2} \\frac12 \\le \\dots \\binom{8}{4}'), 'spellings of one symbol');
  t.not(hashes('\\frac 12')[0], hashes('dfrac 12')[0], 'aliases are for commands only');
  t.same(words('\\text{apples} \\mathrm{cm} \\left( x \\right) \\displaystyle\\sum \\quad \\boxed{5}'), ['apples', 'cm', 'x', '\\sum', '5']);
  t.same(words('a \\\\x \\\\ \\, \\$5'), ['a', 'x', '5'], '"\\\\" is a line break, not the command "\\x"; control symbols separate');
  t.same(words('\\label{eq:1} x \\tag{2}'), ['x'], 'arguments of \\label and \\tag are markup');
});

t.test('calculator annotations are dropped on both sides', async (t) => {
  t.same(hashes('Natalia sold 48/2 = <<48/2=24>>24 clips'), hashes('Natalia sold 48/2 = 24 clips'));
  t.same(words('$<<12/60=0.2>>0.2 per minute'), ['0', '2', 'per', 'minute']);
  t.same(words('x < y and a << b'), ['x', 'y', 'and', 'a', 'b'], 'a lone "<" or an unclosed "<<" is punctuation');
  t.same(words('<<a\nb>> c'), ['a', 'b', 'c'], 'no line break inside an annotation');
});

t.test('Unicode NFKC and lowercase', async (t) => {
  t.same(hashes('ＡＢＣ １２３ x²'), hashes('abc 123 x2'));
  t.same(words('Éte ÉTÉ'), ['éte', 'été']);
  t.same(hashes('ﬁnd'), hashes('find'));
});

t.test('CJK: one word per character, digits kept together', async (t) => {
  t.same(words('妈咪买了3盒茶叶，一共12包？'), ['妈', '咪', '买', '了', '3', '盒', '茶', '叶', '一', '共', '12', '包']);
  t.same(words('カタカナとひらがな'), ['カ', 'タ', 'カ', 'ナ', 'と', 'ひ', 'ら', 'が', 'な']);
  t.same(hashes('问题：3加5'), hashes('问题:3 加 5'), 'full-width punctuation is punctuation');
  t.same(words('한국어 단어'), ['한국어', '단어'], 'Hangul is written with spaces: words, not characters');
});

t.test('astral characters and long texts', async (t) => {
  t.same(words('𝐱 + 𝟐 = 𠀀𠀁'), ['x', '2', '𠀀', '𠀁']);
  const long = 'word '.repeat(5000);
  t.equal(splitWords(long, new Words()).count, 5000, 'buffers grow past their first size');
});

t.test('LaTeX environments and control words in any case', async (t) => {
  t.same(words('$\\begin{pmatrix} 5 \\\\ -3 \\end{pmatrix}$'), ['5', '3']);
  t.same(hashes('\\BEGIN{PMATRIX} 5 \\END{pmatrix} \\Delta x'), hashes('5 \\delta x'));
});
