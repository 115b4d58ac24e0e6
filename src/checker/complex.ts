// Minimal complex arithmetic for evaluating expressions at sample points: answers like 1+2i, \sqrt{-3}
// or ln(-1) must evaluate, and real-only arithmetic would turn them into NaN.

export interface C {
  re: number;
  im: number;
}

export const c = (re: number, im = 0): C => ({ re, im });
export const add = (a: C, b: C): C => c(a.re + b.re, a.im + b.im);
export const sub = (a: C, b: C): C => c(a.re - b.re, a.im - b.im);
export const mul = (a: C, b: C): C => c(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
export const neg = (a: C): C => c(-a.re, -a.im);
export function div(a: C, b: C): C {
  const d = b.re * b.re + b.im * b.im;
  if (d === 0) return c(NaN, NaN);
  return c((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}
export const abs = (a: C): number => Math.hypot(a.re, a.im);
export const exp = (a: C): C => {
  const r = Math.exp(a.re);
  return a.im === 0 ? c(r) : c(r * Math.cos(a.im), r * Math.sin(a.im));
};
export const log = (a: C): C => (a.im === 0 && a.re > 0 ? c(Math.log(a.re)) : c(Math.log(abs(a)), Math.atan2(a.im, a.re)));
export function pow(a: C, b: C): C {
  if (b.im === 0 && a.im === 0) {
    if (a.re >= 0 || Number.isInteger(b.re)) return c(Math.pow(a.re, b.re));
    // A real odd root of a negative number: (-8)^(1/3) = -2, as a student means it.
    const inv = 1 / b.re;
    if (Number.isInteger(Math.round(inv)) && Math.abs(inv - Math.round(inv)) < 1e-12 && Math.round(inv) % 2 !== 0) {
      return c(-Math.pow(-a.re, b.re));
    }
  }
  if (a.re === 0 && a.im === 0) return b.re > 0 ? c(0) : c(NaN, NaN);
  if (b.im === 0 && Number.isInteger(b.re) && Math.abs(b.re) <= 64) {
    let r = c(1);
    const base = b.re < 0 ? div(c(1), a) : a;
    for (let k = 0; k < Math.abs(b.re); k++) r = mul(r, base);
    return r;
  }
  return exp(mul(b, log(a)));
}
export const sqrt = (a: C): C => (a.im === 0 && a.re >= 0 ? c(Math.sqrt(a.re)) : pow(a, c(0.5, 0)));
const I = c(0, 1);
export const sin = (a: C): C => (a.im === 0 ? c(Math.sin(a.re)) : c(Math.sin(a.re) * Math.cosh(a.im), Math.cos(a.re) * Math.sinh(a.im)));
export const cos = (a: C): C => (a.im === 0 ? c(Math.cos(a.re)) : c(Math.cos(a.re) * Math.cosh(a.im), -Math.sin(a.re) * Math.sinh(a.im)));
export const tan = (a: C): C => div(sin(a), cos(a));
function realOr(a: C, f: (x: number) => number, cf: (a: C) => C): C {
  if (a.im === 0) {
    const v = f(a.re);
    if (!Number.isNaN(v)) return c(v);
  }
  return cf(a);
}
// asin z = -i ln(iz + sqrt(1 - z^2)), acos z = pi/2 - asin z, atan z = (i/2) ln((i+z)/(i-z))
export const asin = (a: C): C => realOr(a, Math.asin, (z) => mul(neg(I), log(add(mul(I, z), sqrt(sub(c(1), mul(z, z)))))));
export const acos = (a: C): C => realOr(a, Math.acos, (z) => sub(c(Math.PI / 2), asin(z)));
export const atan = (a: C): C => realOr(a, Math.atan, (z) => mul(c(0, 0.5), log(div(add(I, z), sub(I, z)))));
export const sinh = (a: C): C => mul(c(0.5), sub(exp(a), exp(neg(a))));
export const cosh = (a: C): C => mul(c(0.5), add(exp(a), exp(neg(a))));
export const tanh = (a: C): C => div(sinh(a), cosh(a));
export const isFiniteC = (a: C): boolean => Number.isFinite(a.re) && Number.isFinite(a.im);

export function gamma(x: number): number {
  if (Number.isInteger(x) && x > 0 && x < 171) {
    let r = 1;
    for (let k = 2; k < x; k++) r *= k;
    return r;
  }
  // Lanczos approximation
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  const g = 7;
  const p = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  x -= 1;
  let a = p[0]!;
  const t = x + g + 0.5;
  for (let k = 1; k < g + 2; k++) a += p[k]! / (x + k);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, x + 0.5) * Math.exp(-t) * a;
}
