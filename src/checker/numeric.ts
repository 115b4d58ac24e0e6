// Plain numbers without a CAS: integers, decimals, scientific notation, fractions and mixed numbers.
// A decimal remembers how many digits it was written with, because "1.414" is an approximation of
// \sqrt2 while "10000" is not an approximation of 9999.857.

export interface Num {
  value: number;
  /** Unit in the last written place for a decimal ("1.414" -> 1e-3); 0 for an exact value. */
  ulp: number;
}

const INT = /^[+-]?\d+$/;
const DEC = /^([+-]?)(\d*)\.(\d+)$/;
const SCI = /^([+-]?\d*\.?\d+)\s*(?:[eE]|\\times\s*10\s*\^|\\cdot\s*10\s*\^|\*\s*10\s*\^|×\s*10\s*\^)\s*\{?\s*([+-]?\d+)\s*\}?$/;
const FRAC = /^([+-]?)\s*\\frac\{\s*([+-]?\d+)\s*\}\{\s*([+-]?\d+)\s*\}$/;
const SLASH = /^([+-]?)\s*\(?\s*(\d+)\s*\)?\s*\/\s*\(?\s*(\d+)\s*\)?$/;
const MIXED = /^([+-]?)(\d+)\s*(?:\\frac\{(\d+)\}\{(\d+)\}|\s(\d+)\/(\d+))$/;

function decimalUlp(frac: string): number {
  return Math.pow(10, -frac.length);
}

export function parseNumber(s: string): Num | null {
  const t = s.trim();
  if (t === '') return null;
  if (INT.test(t)) return { value: Number(t), ulp: 0 };
  let m = DEC.exec(t);
  if (m) return { value: Number(`${m[1]}${m[2] || '0'}.${m[3]}`), ulp: decimalUlp(m[3]!) };
  m = SCI.exec(t);
  if (m) {
    const mant = m[1]!;
    const exp = Number(m[2]);
    const dot = mant.indexOf('.');
    const ulp = dot < 0 ? 0 : decimalUlp(mant.slice(dot + 1)) * Math.pow(10, exp);
    return { value: Number(mant) * Math.pow(10, exp), ulp };
  }
  // \frac{a}{b} and a/b: sign, numerator, denominator in the same groups.
  m = FRAC.exec(t) ?? SLASH.exec(t);
  if (m) {
    const den = Number(m[3]);
    if (den === 0) return null;
    const v = Number(m[2]) / den;
    return { value: m[1] === '-' ? -v : v, ulp: 0 };
  }
  m = MIXED.exec(t);
  if (m) {
    const num = Number(m[3] ?? m[5]);
    const den = Number(m[4] ?? m[6]);
    if (den === 0 || num >= den) return null; // "2\frac{5}{3}" is a product, not a mixed number
    const v = Number(m[2]) + num / den;
    return { value: m[1] === '-' ? -v : v, ulp: 0 };
  }
  return null;
}

/** Relative slack for values computed in floating point (both sides exact). */
export const FLOAT_RTOL = 1e-9;

/** v written with d decimals: is it v0 truncated or rounded to d decimals? */
function writtenAs(v: number, d: number, v0: number): boolean {
  const scale = Math.pow(10, d);
  const p = v * scale;
  const g = v0 * scale;
  const eps = 1e-6 * Math.max(1, Math.abs(g));
  return Math.abs(p - Math.trunc(g)) <= eps || Math.abs(p - Math.round(g)) <= eps;
}

function decimalsOf(ulp: number): number {
  return Math.round(-Math.log10(ulp));
}

/**
 * Numeric equality with the precision the answers were written with. An exact gold accepts a decimal
 * prediction that is the gold truncated or rounded to the prediction's digits ("1.414" for \sqrt2, not
 * "9999.857" for 10000); a decimal gold of 3 or more significant digits accepts a more precise prediction
 * that truncates or rounds to it.
 * Two exact values must agree up to floating-point noise.
 */
export function numbersEqual(pred: Num, gold: Num): boolean {
  const a = pred.value;
  const b = gold.value;
  // Infinite values come from overflow (2^{2005}); equal infinities prove nothing. Textual \infty matches earlier.
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const noise = FLOAT_RTOL * Math.max(1, Math.abs(a), Math.abs(b));
  if (Math.abs(a - b) <= noise) return true;
  // A short decimal gold ("0.4") is more likely exact than rounded: only a gold with enough digits
  // accepts a finer prediction that rounds to it (8/21 is not 0.4).
  if (gold.ulp > 0) return significantDigits(gold) >= MIN_APPROX_DIGITS && (pred.ulp === 0 || pred.ulp < gold.ulp) && writtenAs(b, decimalsOf(gold.ulp), a);
  if (pred.ulp > 0) return significantDigits(pred) >= MIN_APPROX_DIGITS && writtenAs(a, decimalsOf(pred.ulp), b);
  return false;
}

/**
 * An approximation of an exact answer needs at least this many significant digits: "1.41" stands for
 * \sqrt2 and "3.14" for \pi, but "0.3" for 1/3 or "0.9" for \sqrt3/2 would let a policy trained on this
 * reward collect it with one-digit guesses.
 */
export const MIN_APPROX_DIGITS = 3;

function significantDigits(n: Num): number {
  if (n.value === 0) return 1;
  return Math.floor(Math.log10(Math.abs(n.value))) + decimalsOf(n.ulp) + 1;
}

/** Equality up to floating-point noise only (percent alternatives: 25% is 0.25, not "about 0.3"). */
export function numbersExactlyEqual(a: number, b: number): boolean {
  return Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= FLOAT_RTOL * Math.max(1, Math.abs(a), Math.abs(b));
}
