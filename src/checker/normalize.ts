// Answer normalisation: the purely textual rewrites under which two answers are the same answer
// (presentation, units, separators). Anything that needs arithmetic is left to numeric.ts / symbolic.ts.

const UNIT_WORDS = [
  'square units', 'sq units', 'cubic units', 'units', 'unit', 'square feet', 'square inches', 'square meters',
  'square centimeters', 'cubic feet', 'cubic inches', 'cubic meters', 'cubic centimeters',
  'dollars', 'dollar', 'cents', 'cent', 'euros', 'pounds', 'yuan',
  'weeks', 'week', 'days', 'day', 'hours', 'hour', 'minutes', 'minute', 'seconds', 'second', 'years', 'year',
  'months', 'month', 'degrees', 'degree', 'meters', 'meter', 'centimeters', 'centimeter', 'kilometers',
  'kilometer', 'millimeters', 'inches', 'inch', 'feet', 'foot', 'miles', 'mile', 'yards', 'yard',
  'grams', 'gram', 'kilograms', 'kilogram', 'liters', 'liter', 'gallons', 'gallon', 'ounces', 'ounce',
  'people', 'persons', 'students', 'marbles', 'apples', 'points', 'times', 'ways', 'pages', 'books',
  'mph', 'sq ft', 'sq in',
].sort((a, b) => b.length - a.length);

// Short unit symbols count as units only when separated from the number: "10 cm" is 10, "10cm" is not
// (MARIO_EVAL's convention: a glued letter may be a variable).
const UNIT_SYMBOLS = ['cm', 'mm', 'km', 'm', 'in', 'ft', 'kg', 'g', 'mg', 'lb', 'lbs', 'oz', 's', 'sec', 'min', 'hr', 'hrs', 'h', 'L', 'mL', 'ml'];

// Rates hold a slash, so they cannot be a variable: "60 km/h" and "60km/h" are 60.
const RATE_UNITS = ['km/h', 'km/hr', 'm/s', 'cm/s', 'ft/s', 'mi/h', 'mi/hr', 'm/min', 'km/min', 'km/s', 'g/mol', 'kg/m', 'g/cm', 'L/min'];

const wordRe = new RegExp(`(\\d|\\})\\s*(?:${UNIT_WORDS.map((w) => w.replace(/ /g, '\\s+')).join('|')})(?:\\^\\{?[23]\\}?)?\\s*$`, 'i');
const symRe = new RegExp(`(\\d|\\})\\s+(?:${UNIT_SYMBOLS.join('|')})(?:\\^\\{?[23]\\}?)?\\s*$`);
const rateRe = new RegExp(`(\\d|\\})\\s*(?:${RATE_UNITS.map((w) => w.replace('/', '\\s*/\\s*')).join('|')})(?:\\^\\{?[23]\\}?)?\\s*$`);
// Chinese units and measure words after a number: 1200元, 18 个, 3千米, 5平方米, 2米/秒.
const HAN = '\\u3400-\\u4dbf\\u4e00-\\u9fff';
const hanRe = new RegExp(`(\\d|\\})\\s*[${HAN}]{1,4}(?:\\s*/\\s*[${HAN}]{1,3})?(?:\\^\\{?[23]\\}?)?\\s*$`);
const HAN_CHAR = new RegExp(`[${HAN}]`);
// The inside of a \text{} / \mathrm{} that reads as a unit: letters, dots, slashes, Chinese, an exponent.
const UNIT_TEXT = new RegExp(`^[a-zA-Z.~/ ${HAN}]+(?:\\^\\{?[23]\\}?)?$`);

const DOUBLED = /\\\\(?=(?:frac|dfrac|tfrac|sqrt|begin|end|text|left|right|pi|cdot|times|infty|sin|cos|tan|sec|csc|cot|log|ln|circ|mathrm|mbox|pm|le|ge|neq|in|cup|cap|emptyset|alpha|beta|theta|quad|\$|%|!|,)(?![a-zA-Z]))/g;

/** Undo a JSON/Python double-escaping of backslashes ("\\\\frac" -> "\\frac"; "\\\\\\\\" -> "\\\\"). */
export function undoubleBackslashes(s: string): string {
  if (!DOUBLED.test(s)) return s;
  DOUBLED.lastIndex = 0;
  return s.replace(/\\\\\\\\/g, '\\\\').replace(DOUBLED, '\\');
}

/** Replace `\cmd{...}` (balanced) with its argument; used for \text, \mathrm, \mbox, \textbf. */
function unwrapCommand(s: string, cmd: string): string {
  let out = s;
  for (let guard = 0; guard < 50; guard++) {
    const i = out.indexOf(cmd + '{');
    if (i < 0) break;
    let depth = 0;
    let j = i + cmd.length;
    for (; j < out.length; j++) {
      if (out[j] === '{') depth++;
      else if (out[j] === '}' && --depth === 0) break;
    }
    if (j >= out.length) break;
    out = out.slice(0, i) + out.slice(i + cmd.length + 1, j) + out.slice(j + 1);
  }
  return out;
}

/** Strip a trailing unit ("10 cm^2", "10\text{ units}", "5 dollars") from a number or expression. */
export function stripUnits(s: string): string {
  let out = s.replace(/(?:\\[,;: !]|~|\s)*\\(?:text|mathrm|mbox|textrm)\{\s*([^{}]*)\}\s*(\^\{?[23]\}?)?\s*$/, (m, inner: string) => {
    // \text{...} after a number is a unit or a label: drop it; a whole-answer \text{} is the answer itself.
    return /[\d}]\s*$/.test(s.slice(0, s.length - m.length)) && UNIT_TEXT.test(inner.trim()) ? '' : m;
  });
  out = out.trim();
  for (let k = 0; k < 2; k++) {
    out = out.replace(wordRe, '$1').trim();
    out = out.replace(symRe, '$1').trim();
    if (out.includes('/')) out = out.replace(rateRe, '$1').trim();
    if (HAN_CHAR.test(out)) out = out.replace(hanRe, '$1').trim();
  }
  return out;
}

/** The empty set in its spellings (\emptyset, \varnothing, ∅, \{\}, {}) as \emptyset. */
export function emptySet(s: string): string {
  return /^(?:\\emptyset|\\varnothing|∅|\\\{\s*\\\}|\{\s*\})$/.test(s.trim()) ? '\\emptyset' : s;
}

/** Thousands separators: "3,250", "10{,}000", "11,\\! 111", "1\\,000" -> digits only. */
export function stripThousands(s: string): string {
  let out = s.replace(/(\d)\{,\}(?=\d{3})/g, '$1').replace(/(\d),\\!\s*(?=\d{3})/g, '$1').replace(/(\d)\\[,;: ](?=\d{3})/g, '$1');
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(out)) out = out.replace(/,/g, '');
  return out;
}

const SIMPLE_LHS = /^\s*(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|[a-zA-Z]\s*\(\s*[a-zA-Z]\s*\)|\\[a-zA-Z]+)\s*=(?!=)/;

/** The lone variable (or f(x)) left of the only "=", spaces removed; null when there is none. */
export function simpleLhs(s: string): string | null {
  if ((s.match(/=/g) ?? []).length !== 1) return null;
  const m = SIMPLE_LHS.exec(s);
  return m ? m[0].replace(/=$/, '').replace(/[\s{}]/g, '') : null;
}

/** "x = 3" -> "3"; "f(x) = 2x+3" -> "2x+3". Only a lone variable (or f(x)) on the left counts. */
export function stripSimpleLhs(s: string): string {
  if ((s.match(/=/g) ?? []).length !== 1) return s;
  return SIMPLE_LHS.test(s) ? s.replace(SIMPLE_LHS, '').trim() : s;
}

/** The textual normal form. Percent signs are removed here; callers that care test hasPercent() first. */
export function normalizeAnswer(input: string): string {
  let s = undoubleBackslashes(input).trim();
  s = s.replace(/\n/g, ' ');
  // Display wrappers: $...$, \(...\), \[...\]
  s = s.replace(/^\$+\s*|\s*\$+$/g, '').replace(/^\\\(|\\\)$/g, '').replace(/^\\\[|\\\]$/g, '').trim();
  s = s.replace(/\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits|mathbf|boldsymbol|bf|rm|it)\b\s*/g, '');
  s = s.replace(/\\[dtc]frac/g, '\\frac').replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?=[\s()[\]|.{}\\])/g, '');
  s = s.replace(/\\left\\\{/g, '\\{').replace(/\\right\\\}/g, '\\}');
  s = stripThousands(s);
  s = s.replace(/\\!/g, '').replace(/(?<!\\)\\[;: ]/g, ' ').replace(/\\quad|\\qquad/g, ' ').replace(/~/g, ' ');
  s = s.replace(/\\\$|\$/g, '').replace(/\\%|%/g, '').replace(/\\?dollars?\b/gi, '');
  if (/per\s*cent/i.test(s)) s = s.replace(/\s*\b(?:percent|per\s+cent)\b/gi, '');
  s = stripThousands(s.trim());
  s = unwrapCommand(s, '\\textbf');
  s = stripUnits(s);
  for (const cmd of ['\\text', '\\mathrm', '\\mbox', '\\textrm', '\\operatorname', '\\mathit']) s = unwrapCommand(s, cmd);
  // A bare angle "30^\circ" is the number 30; inside an expression (\sin(90^\circ - x)) the degree sign is
  // kept for the CAS, which reads it as pi/180.
  s = s.replace(/°/g, '^\\circ');
  if (/^[-+]?[\d.]+\s*\^\s*\{?\s*\\circ\s*\}?$/.test(s)) s = s.replace(/\s*\^.*$/, '');
  s = s.replace(/\\(le|ge)qslant\b/g, '\\$1q').replace(/⩽/g, '≤').replace(/⩾/g, '≥');
  s = s.replace(/\\le(?![a-z])/g, '\\leq').replace(/\\ge(?![a-z])/g, '\\geq').replace(/≤/g, '\\leq').replace(/≥/g, '\\geq');
  s = s.replace(/\\infty/g, '\\infty').replace(/∞/g, '\\infty').replace(/\+\s*\\infty/g, '\\infty');
  // \frac12 -> \frac{1}{2}; \sqrt3 -> \sqrt{3}
  s = s.replace(/\\frac\s*(\d)\s*(\d)/g, '\\frac{$1}{$2}').replace(/\\frac\s*(\{[^{}]*\})\s*(\d)/g, '\\frac$1{$2}');
  s = s.replace(/\\frac\s*(\d)\s*\{/g, '\\frac{$1}{').replace(/\\sqrt\s*(\d+|[a-zA-Z])/g, '\\sqrt{$1}');
  s = s.replace(/_\{(\w)\}/g, '_$1');
  s = s.replace(/\s*\.\s*$/, '').trim();
  s = emptySet(s);
  s = s.replace(/^\{([^{}]*)\}$/, '$1');
  s = stripUnits(s);
  // A separator hidden by a unit until now: "1,200 \text{ meters}", "3,000 meters", "1,200元".
  if (s.includes(',')) s = stripThousands(s);
  // "18.0" is 18; other trailing zeros stay, because "0.20" says the answer has two decimals.
  s = s.replace(/(\d)\.0+(?!\d)/g, '$1');
  s = s.replace(/(^|[^\d])\.(\d)/g, '$10.$2');
  s = s.replace(/\s+/g, ' ').trim();
  return s;
}

/** True when the answer carries a percent sign (so 10% may match 10 or 0.1). */
export function hasPercent(s: string): boolean {
  return /\\?%\s*\$?\s*$/.test(s.trim()) || /\\%/.test(s) || /\d\s*(?:percent|per\s+cent)\b/i.test(s);
}

/** The form used for the cheapest comparison: no spaces, no braces around single tokens, lower case. */
export function compactForm(s: string): string {
  return s.replace(/\s+/g, '').replace(/\\,/g, '').toLowerCase();
}
